"""Tests mirror the packages (issue 26 item 5): where a package's tests are is answered by its name.

Every folder under tests/ is either a package of the code (one of lfr_core's contexts, `ops` for lfr_ops,
`ray_apps`, `dags` for the DAGs and the Airflow plugins) or one of the repo-wide folders: `foundation` (checks of
the whole repository and of lfr_core's flat kernel, config and errors), `security` (attacks, which cross every
package), `infra` (the production Terraform) and `bench` (the benches' own runs). Each is a Python package, so two
folders may hold test files of the same name. The benches run on their own: none imports test code.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
REPO_WIDE = {"foundation", "security", "infra", "bench"}
# Test folders named after a tree of the code other than lfr_core's contexts.
OTHER_TREES = {"ops": "lfr_ops", "ray_apps": "ray_apps", "dags": "dags"}


def lfr_core_contexts() -> set[str]:
    return {p.name for p in (ROOT / "lfr_core").iterdir() if (p / "__init__.py").is_file()}


def folders() -> list[Path]:
    """The folders under tests/ that hold a file (one left with only bytecode by a move is not a folder of git's)."""
    return sorted(p for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))
                  and any(f.is_file() and "__pycache__" not in f.parts for f in p.rglob("*")))


def test_every_test_folder_is_a_package_of_the_code_or_a_repo_wide_one() -> None:
    assert lfr_core_contexts() >= {"audit", "identity", "deployments", "watchlist", "alerts", "live", "reporting",
                                   "workflow", "vision", "matching", "evaluation", "storage", "db"}
    allowed = lfr_core_contexts() | set(OTHER_TREES) | REPO_WIDE
    assert all((ROOT / tree).is_dir() for tree in OTHER_TREES.values())
    strays = [p.name for p in folders() if p.name not in allowed]
    assert strays == [], (f"tests/{strays[0]}/ is neither a package of the code ({sorted(lfr_core_contexts())}, "
                          f"{sorted(OTHER_TREES)}) nor a repo-wide folder ({sorted(REPO_WIDE)}): move its tests to "
                          "the folder of the package they check")


def test_every_test_folder_is_a_python_package() -> None:
    assert [p.name for p in folders() if not (p / "__init__.py").is_file()] == []


def test_tests_sit_in_a_folder_not_at_the_top_of_tests() -> None:
    assert sorted(p.name for p in TESTS.glob("test_*.py")) == []


def test_benches_import_no_test_code() -> None:
    """A bench takes what it needs from the library or lfr_ops/ (lfr_ops/bench_env.py), never from tests/."""
    offenders = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] == "tests"]
    assert not offenders, offenders
