"""Telegram routers, one per feature, built by factory functions."""
