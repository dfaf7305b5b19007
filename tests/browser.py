"""Debian's Chromium driven by Playwright (its own browser download is impossible here), and where the
browser tests leave their screenshots: `LFR_TEST_ARTEFACTS`, else a temporary folder named in the log."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() and not shutil.which("chromium"),
                                    reason="Chromium is not installed (apt-get install -y chromium)")


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
                                      headless=True,
                                      args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])


def artefact_dir() -> Path:
    folder = Path(os.environ.get("LFR_TEST_ARTEFACTS") or tempfile.mkdtemp(prefix="lfr-test-artefacts-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name: str) -> Path:
    """A full-page screenshot of what the test sees now, kept as a test artefact."""
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


ARTEFACTS = artefact_dir()
