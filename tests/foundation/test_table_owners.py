"""Every table has one owner (issue 26 item 1): SQL naming a platform table is written only in a context's
`queries.py`, a context writes only its own tables, and it reads another's only when that context sits below it.

The db package (lfr_core/db: migrations, policy/, hardening) owns the schema itself and is not checked here;
nor are the tests, whose attacks in tests/security/ go straight at the tables on purpose. A statement is found
by its SQL keywords in capitals (`FROM deployments`, `UPDATE public.alerts`, `INSERT INTO ...`), in any string
of a module but its docstrings, so prose that mentions a table does not count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.foundation.test_layers import RUNGS, layer, module_name

ROOT = Path(__file__).resolve().parents[2]
TREES = ("lfr_core", "lfr_ops", "ray_apps", "dags", "airflow_plugins")

# The context that owns each table (its rows are created and changed only by that context's queries.py).
OWNERS: dict[str, str] = {
    "audit_log": "audit",
    "revoked_tokens": "identity",
    "model_calibrations": "evaluation",
    "model_condition_curves": "evaluation",
    "deployments": "deployments",
    "deployment_staff": "deployments",
    "deployment_cameras": "deployments",
    "api_keys": "deployments",
    "policy_packs": "deployments",
    "deployment_authorisations": "deployments",
    "use_deletion_receipts": "deployments",
    "threshold_decisions": "deployments",
    "state_transitions": "deployments",
    "staging_claims": "watchlist",
    "watchlist_versions": "watchlist",
    "watchlist_entries": "watchlist",
    "watchlist_embeddings": "watchlist",
    "alerts": "alerts",
    "held_alert_crops": "alerts",
    "alert_reviews": "alerts",
    "deployment_counters": "alerts",
}

_TABLE = r"(?:(?:public|audit)\.)?(" + "|".join(sorted(OWNERS, key=len, reverse=True)) + r")\b"
READS = re.compile(r"\b(?:FROM|JOIN)\s+" + _TABLE)
WRITES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|LOCK\s+TABLE)\s+" + _TABLE)


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_strings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal in the module that is not a docstring; an f-string's literal parts
    are joined so a statement split by a placeholder is still seen whole."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, " ".join(v.value for v in node.values
                                        if isinstance(v, ast.Constant) and isinstance(v.value, str))


def context_of_queries(path: Path) -> str | None:
    """The context whose queries.py this is, or None for any other module."""
    parts = path.relative_to(ROOT).parts
    if len(parts) == 3 and parts[0] == "lfr_core" and parts[2] == "queries.py":
        return layer(module_name(path))
    return None


def violations() -> list[str]:
    found: set[str] = set()
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[:2] == ("lfr_core", "db"):
                continue
            context = context_of_queries(path)
            for line, text in sql_strings(path):
                for kind, pattern in (("writes", WRITES), ("reads", READS)):
                    for table in pattern.findall(text):
                        owner = OWNERS[table]
                        where = f"{rel}:{line} {kind} {table} (owned by {owner})"
                        if context is None:
                            found.add(f"{where}: SQL outside a queries.py")
                        elif kind == "writes" and context != owner:
                            found.add(f"{where}: only {owner}/queries.py writes it")
                        elif kind == "reads" and RUNGS[context] < RUNGS[owner]:
                            found.add(f"{where}: {context} sits below {owner}")
    return sorted(found)


def test_each_table_is_queried_only_by_its_owner_or_a_context_above_it() -> None:
    found = violations()
    assert not found, f"{len(found)} statement(s) outside their owner's queries.py:\n" + "\n".join(found)


def test_the_checker_sees_a_statement_out_of_place(tmp_path: Path) -> None:
    """The patterns find reads and writes as the code writes them, and skip prose."""
    assert READS.findall("SELECT a FROM public.deployments d JOIN watchlist_versions v ON ...") == [
        "deployments", "watchlist_versions"]
    assert WRITES.findall("UPDATE alerts SET x = 1") == ["alerts"]
    assert READS.findall("SELECT row_hash FROM audit.audit_log ORDER BY seq") == ["audit_log"]
    assert WRITES.findall("DELETE FROM public.watchlist_entries WHERE") == ["watchlist_entries"]
    assert READS.findall("the list is read from deployments by the planner") == []
    module = tmp_path / "m.py"
    module.write_text('"""Reads FROM deployments in prose."""\nQ = "SELECT 1 FROM alerts"\n')
    assert [text for _, text in sql_strings(module)] == ["SELECT 1 FROM alerts"]


def test_every_table_of_the_schema_has_an_owner() -> None:
    """A table added by a migration must be given to a context here (the schema's own bookkeeping aside)."""
    created: set[str] = set()
    for sql in (ROOT / "lfr_core" / "db" / "migrations").glob("*.sql"):
        created |= set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(?:public\.)?([a-z_]+)", sql.read_text()))
    assert created - {"schema_migrations"} == set(OWNERS)
