"""Entry point: `python -m bot [run|migrate|check]`."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _stop_early(signum: int, frame: FrameType | None) -> None:
    """SIGTERM before the bot installs its own handlers: stop like on Ctrl+C (exit 0)."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_early)
    try:
        from bot.cli import main
    except KeyboardInterrupt:
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
