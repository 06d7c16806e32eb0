"""Async client for the Pixlpark REST API."""
