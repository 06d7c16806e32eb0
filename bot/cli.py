"""Command-line front of the bot."""

from __future__ import annotations

import argparse

from bot.config import ConfigError, load_settings


def main(argv: list[str]) -> int:
    """Parse the command line and run the chosen command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate", "check"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    print(f"{args.command}: not implemented yet ({settings.bot_mode})")
    return 1
