"""Debian's Chromium driven by Playwright (its own browser download is impossible here), and where the
browser tests leave their screenshots: `LFR_TEST_ARTEFACTS`, else a temporary folder named in the log.

`LFR_CHROMIUM` names the browser (a command or a path; default `chromium`, as `.ci/ensure-chromium` installs
it). Without one a browser test is skipped, except under `CI=true`, where it fails with the same reason: a CI
run that skipped the console and the Airflow UI would pass without having looked at them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest


def chromium_executable(env: Mapping[str, str] = os.environ) -> str | None:
    """The Chromium binary to launch, or None when `LFR_CHROMIUM` (default `chromium`) names none."""
    return shutil.which(env.get("LFR_CHROMIUM") or "chromium")


def in_ci(env: Mapping[str, str] = os.environ) -> bool:
    return env.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_reason(env: Mapping[str, str] = os.environ) -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if chromium_executable(env):
        return None
    return (f"Chromium is not installed ({env.get('LFR_CHROMIUM') or 'chromium'} not found): `make test` installs "
            f"it as root, else run `sudo apt-get install -y chromium`")


def require_chromium(env: Mapping[str, str] = os.environ) -> str:
    """The browser's path; without one the test is skipped, or failed under CI=true."""
    reason = missing_reason(env)
    if reason is None:
        return chromium_executable(env)  # type: ignore[return-value]
    if in_ci(env):
        pytest.fail(f"{reason} (a skipped browser test is a failure under CI=true)", pytrace=False)
    pytest.skip(reason)


# Under CI=true nothing is skipped at collection: `launch` fails the test with the reason instead.
needs_chromium = pytest.mark.skipif(missing_reason() is not None and not in_ci(), reason=missing_reason() or "")


def launch(playwright):
    return playwright.chromium.launch(executable_path=require_chromium(), headless=True,
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
