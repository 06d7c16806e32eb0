"""Durable storage on SQLite: schema, migrations and repositories."""
