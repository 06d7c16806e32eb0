"""The Telegram bot: configuration, wiring, the web server and the alert pipeline."""
