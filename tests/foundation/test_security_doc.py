"""SECURITY.md's claims point at tests: every test file and test name it cites exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_cited_test_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    files = set(re.findall(r"`(tests/[\w/]+\.py)", text))
    names = set(re.findall(r"\b(test_\w+)\b", text)) - {Path(f).stem for f in files}
    assert files and names
    assert [f for f in files if not (ROOT / f).is_file()] == []
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n in names if f"def {n}(" not in sources] == []
