"""What a migration is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: the statements that lead to it from the previous one."""

    version: int
    name: str
    statements: tuple[str, ...]
