"""The repository itself: a fresh clone on any machine must build its own environment, so nothing tracked
may point at the machine it was made on, and CI must run the README's test command as a user would."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from lfr_core.config import PROJECT_ROOT

# Absolute paths that only exist on some machine: home folders, this checkout's own location.
MACHINE_PATH = re.compile(r"(?<![\w.$}])/(?:root|work|home/[\w.\-]+|Users/[\w.\-]+)/")


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True,
                          text=True).stdout.split("\0")[:-1]


def _tracked_links() -> dict[str, str]:
    """Tracked symbolic links (git mode 120000) and the target git records for each."""
    out = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True,
                         text=True).stdout
    links = {}
    for record in out.split("\0")[:-1]:
        meta, path = record.split("\t", 1)
        if meta.startswith("120000"):
            blob = meta.split()[1]
            links[path] = subprocess.run(["git", "cat-file", "blob", blob], cwd=PROJECT_ROOT, capture_output=True,
                                         check=True, text=True).stdout
    return links


def link_leaves_repository(path: str, target: str) -> bool:
    if os.path.isabs(target):
        return True
    resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return resolved == ".." or resolved.startswith("../")


def test_link_check_catches_links_out_of_the_repository():
    root_home = "/" + "root"  # spelt in two parts so this file does not trip its own check
    assert link_leaves_repository(".venv", f"{root_home}/.cache/lfr-trial")
    assert link_leaves_repository("docs/data", "../../shared/data")
    assert not link_leaves_repository("docs/latest.md", "v1.md")
    assert MACHINE_PATH.search(f"see {root_home}/.cache/lfr-venv for the venv")
    assert MACHINE_PATH.search('LFR_HOME="/' + 'home/ci/lfr"')
    assert not MACHINE_PATH.search("$HOME/.cache/pip and ../shared and /etc/ssl/certs")


def test_no_tracked_link_leaves_the_repository():
    leaving = {p: t for p, t in _tracked_links().items() if link_leaves_repository(p, t)}
    assert not leaving, f"tracked links point outside the repository (break on any other machine): {leaving}"


def test_no_virtual_environment_is_tracked():
    venvs = [p for p in _tracked() if re.search(r"(^|/)\.?venv(/|$)", p)]
    assert not venvs, f"a virtual environment is tracked; a fresh clone must build its own: {venvs[:5]}"


def test_no_tracked_file_names_a_machine_path():
    found = []
    for path in _tracked():
        file = PROJECT_ROOT / path
        if file.is_symlink() or not file.is_file() or file.stat().st_size > 2_000_000:
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{path}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                  if MACHINE_PATH.search(line)]
    assert not found, "tracked files name absolute paths of a particular machine:\n" + "\n".join(found[:20])


def _readme_test_command() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    return next(c for c in commands if c.startswith("make test"))


def test_ci_runs_the_readme_test_command_as_written():
    """CI must run `make test` exactly as the README gives it: the default `.venv` inside the clone, no
    pre-built environment standing in for the one a new user builds."""
    command = _readme_test_command()
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    runs = [line for line in lines if line.startswith("make ")]
    assert runs == [command], f".ci/run runs {runs}, the README says {command!r}"
    assert not any(re.match(r"(export\s+)?VENV=", line) for line in lines), ".ci/run must not set VENV"
    assert "VENV" not in shlex.split(command)[1:]


def test_makefile_builds_the_venv_inside_the_clone_by_default():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^VENV \?= \.venv$", makefile, re.M)
    assert Path(PROJECT_ROOT / ".gitignore").read_text().splitlines().count(".venv/") == 1
