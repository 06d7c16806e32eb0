"""Entry point: `python -m bot [run|migrate|check]`."""

from __future__ import annotations

import sys

from bot.stopping import exit_on_signals

if __name__ == "__main__":
    exit_on_signals()  # before the slow imports: a SIGTERM during them ends the process at once
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
