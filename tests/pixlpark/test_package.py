"""Package boundaries and the public import surface."""

from __future__ import annotations

import ast
from pathlib import Path

import pixlpark

PACKAGE = Path(pixlpark.__file__).resolve().parent
FORBIDDEN = ("bot", "handlers", "storage", "tests")


def test_pixlpark_imports_nothing_from_the_bot() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_public_names() -> None:
    for name in pixlpark.__all__:
        assert hasattr(pixlpark, name), name
    assert pixlpark.PixlparkClient.__module__ == "pixlpark.client"
