"""`make test` gets Chromium for the browser tests (issue 31 item 5), and under CI=true a browser test that
finds none fails instead of skipping. Nothing is installed here: `apt-get` and `id` are stand-ins on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import chromium_executable, missing_reason, require_chromium

ROOT = Path(__file__).resolve().parents[2]
ENSURE = ROOT / ".ci" / "ensure-chromium"
NOWHERE = "lfr-no-such-chromium"


def test_lfr_chromium_names_the_browser_and_a_missing_one_is_reported():
    assert chromium_executable({"LFR_CHROMIUM": NOWHERE}) is None
    assert NOWHERE in missing_reason({"LFR_CHROMIUM": NOWHERE})
    assert chromium_executable({"LFR_CHROMIUM": sys.executable}) == sys.executable
    assert missing_reason({"LFR_CHROMIUM": sys.executable}) is None


def test_without_chromium_a_browser_test_skips_but_fails_under_ci():
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        require_chromium({"LFR_CHROMIUM": NOWHERE})
    with pytest.raises(pytest.fail.Exception, match="failure under CI=true"):
        require_chromium({"LFR_CHROMIUM": NOWHERE, "CI": "true"})


def test_ci_true_turns_a_marked_browser_test_into_a_failure(tmp_path):
    (tmp_path / "test_ui.py").write_text(
        "from tests.browser import needs_chromium, require_chromium\n\n"
        "@needs_chromium\ndef test_ui():\n    require_chromium()\n")

    def run(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-c", os.devnull,
                               "--rootdir", str(tmp_path), str(tmp_path / "test_ui.py")],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "LFR_CHROMIUM": NOWHERE,
                                   "LFR_TEST_ARTEFACTS": str(tmp_path / "shots"), "CI": "", **env})

    skipped = run()
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout
    failed = run(CI="true")
    assert failed.returncode == 1 and "failure under CI=true" in failed.stdout, failed.stdout


def _fake_bin(tmp_path: Path, uid: int) -> Path:
    """`id -u` answers `uid`; `apt-get` logs its arguments and, on install, puts the browser on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "apt-get").write_text(
        f"#!/bin/sh\necho \"$@\" >> {tmp_path}/apt.log\n"
        f"case \"$*\" in *install*) printf '#!/bin/sh\\n' > {bin_dir}/{NOWHERE}; chmod +x {bin_dir}/{NOWHERE};; esac\n")
    for tool in ("id", "apt-get"):
        (bin_dir / tool).chmod(0o755)
    return bin_dir


def _ensure(bin_dir: Path, browser: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ENSURE)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "LFR_CHROMIUM": browser})


def test_ensure_chromium_does_nothing_when_the_browser_is_there(tmp_path):
    bin_dir = _fake_bin(tmp_path, 0)
    done = _ensure(bin_dir, sys.executable)
    assert done.returncode == 0 and done.stderr == "" and not (tmp_path / "apt.log").exists()


def test_ensure_chromium_installs_debians_chromium_as_root(tmp_path):
    bin_dir = _fake_bin(tmp_path, 0)
    done = _ensure(bin_dir, NOWHERE)
    assert done.returncode == 0, done.stderr
    assert "install -y -qq chromium" in (tmp_path / "apt.log").read_text()


def test_ensure_chromium_stops_with_one_line_saying_what_to_run_otherwise(tmp_path):
    bin_dir = _fake_bin(tmp_path, 1000)
    done = _ensure(bin_dir, NOWHERE)
    assert done.returncode == 1 and not (tmp_path / "apt.log").exists()
    assert len(done.stderr.strip().splitlines()) == 1 and "sudo apt-get install -y chromium" in done.stderr


def test_make_test_gets_chromium_before_pytest():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index(".ci/ensure-chromium") < recipe.index("pytest")
