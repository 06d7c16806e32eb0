"""Telegram routers, one per feature."""
