"""The alert pipeline: inbox → processor (and poller) → outbox → sender."""
