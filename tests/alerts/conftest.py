"""Fixtures of the alert tests: the bot as a subprocess against the fakes."""

from __future__ import annotations

import re


def metric(text: str, name: str, **labels: str) -> float:
    """A sample's value from a /metrics text (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search("^" + pattern + "$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0
