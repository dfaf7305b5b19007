"""The exception classes the code defines, found by reading it, and the domain's errors among them imported, so
that the tests of each interface's error table (tests/foundation/test_errors.py, tests/dags/test_task_errors.py)
see every one, whichever modules a test session happened to import."""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

from lfr_core.errors import LfrError

ROOT = Path(__file__).resolve().parents[1]
TREES = ("lfr_core", "lfr_ops", "ray_apps", "dags", "airflow_plugins")
# Exceptions of the libraries we subclass, besides Python's own.
OUTSIDE_EXCEPTIONS = {"HTTPException", "AirflowException", "AirflowFailException", "AirflowSkipException"}


def exception_classes() -> dict[str, list[tuple[Path, str]]]:
    """Class name -> where it is defined (file, module name), for each class that derives from an exception by
    its bases' names, directly or through another class defined here."""
    bases: dict[str, list[tuple[Path, list[str]]]] = {}
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ClassDef):
                    names = [ast.unparse(b).rpartition(".")[2] for b in node.bases]
                    bases.setdefault(node.name, []).append((path, names))
    known = {name for name in dir(builtins) if isinstance(getattr(builtins, name), type)
             and issubclass(getattr(builtins, name), BaseException)} | OUTSIDE_EXCEPTIONS
    changed = True
    while changed:
        changed = False
        for name, defs in bases.items():
            if name not in known and any(b in known for _, names in defs for b in names):
                known.add(name)
                changed = True
    return {name: [(path, _module(path)) for path, _ in defs] for name, defs in bases.items() if name in known}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def domain_errors() -> set[type[LfrError]]:
    """LfrError and every subclass of it, once each module that defines an exception class is imported (the
    DAG folder and the plugins, which Airflow loads by file, define none)."""
    for found in exception_classes().values():
        for path, module in found:
            if path.parts[len(ROOT.parts)] in ("lfr_core", "lfr_ops", "ray_apps"):
                importlib.import_module(module)
    seen: set[type[LfrError]] = set()
    todo: list[type[LfrError]] = [LfrError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return seen
