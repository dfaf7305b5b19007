"""ruff and mypy, as configured in pyproject.toml, pass on the whole tree (issue 26 item 6).

Both run from the lock's pinned versions through this interpreter, so `make test` and a developer's editor
agree. mypy keeps its cache outside the checkout, one per checkout, so a second run takes seconds.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff check . found problems:\n{result.stdout}{result.stderr}"


def test_mypy_finds_nothing() -> None:
    cache = Path(tempfile.gettempdir()) / f"lfr-mypy-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"
    result = run("mypy", "--cache-dir", str(cache))
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"
