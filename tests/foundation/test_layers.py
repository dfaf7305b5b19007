"""The code is layered (issue 26 item 1): a module imports only from its own layer or the layers below, and no
two modules or packages import each other, directly or round a loop.

Bottom to top: kernel < vision, matching, storage < audit < db < identity < evaluation < deployments < watchlist <
alerts < live, reporting < workflow < tooling, ray_apps, airflow (dags/ and airflow_plugins/). Layers on one rung
(vision, matching and storage; live and reporting; the three at the top) are independent of each other. The
issue's order places no evaluation: its calibrations are recorded in the database with an audited actor, and the
watchlist's threshold reads them, so it sits between identity and deployments. Every import counts, at module
level or inside a function: a deferred import still ties the two modules together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("lfr_core", "lfr_ops", "ray_apps", "dags", "airflow_plugins")

# Each layer's rung; a module may import from a lower rung or from its own layer.
RUNGS: dict[str, int] = {
    "kernel": 0,
    "vision": 1, "matching": 1, "storage": 1,
    "audit": 2,
    "db": 3,
    "identity": 4,
    "evaluation": 5,
    "deployments": 6,
    "watchlist": 7,
    "alerts": 8,
    "live": 9, "reporting": 9,
    "workflow": 10,
    "tooling": 11, "ray_apps": 11, "airflow": 11,
}

# Which layer a module is in: the longest matching prefix wins. Where the packages already say it, one line per
# package; today's flat modules of lfr_core are listed one by one until each moves into its context's package
# (issue 26), and this table shrinks with every move.
LAYERS: dict[str, str] = {
    "lfr_core": "kernel",
    "lfr_core.config": "kernel",
    "lfr_core.errors": "kernel",
    "lfr_core.vision": "vision",
    "lfr_core.matching": "matching",
    # Storage holds the key files too (keyfiles.py, a PEM helper with no identity logic): the audit checkpoint
    # signer's key and the local token issuer's, so audit/ reads its key from below.
    "lfr_core.storage": "storage",
    "lfr_core.evaluation": "evaluation",
    "lfr_core.audit": "audit",  # log, checkpoints, witness: names and roles as strings, nothing of identity
    "lfr_core.db": "db",
    # Identity: the roles, the Actor record, people, sign-in, tokens and `acting` (a transaction as the person's
    # database role, so above db). Consultations are here, not in audit/: a consultation is a signed-in person's
    # view of personal data, recorded as that person (`acting`) in the audit log, as every context records its
    # changes; the log itself (audit/) takes names and roles as strings and imports nothing of identity.
    "lfr_core.identity": "identity",
    "lfr_core.deployments": "deployments",  # model, service, camera_keys
    "lfr_core.watchlist": "watchlist",
    "lfr_core.alerts": "alerts",  # model, service
    "lfr_core.live": "live",
    "lfr_core.reporting": "reporting",
    "lfr_core.workflow": "workflow",  # tasks, approval, cancel, sweeps (the trigger is airflow_plugins')
    "lfr_ops": "tooling",
    "ray_apps": "ray_apps",
    "dags": "airflow",
    "airflow_plugins": "airflow",
}

# Upward imports that stay until the move that removes them; each says which move. The list only shrinks: the
# test fails when one of them is gone, so that it comes off here.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}

# Import loops between packages that stay until the move that breaks them; the list only shrinks.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Each of our modules that `name` imports, anywhere in its body; `from p import m` counts as p.m when m is
    a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def layer(name: str) -> str:
    prefix = name
    while prefix not in LAYERS:
        prefix = prefix.rpartition(".")[0]
        assert prefix, f"{name} is in no layer: add it to LAYERS"
    return LAYERS[prefix]


def package(name: str) -> str:
    """The unit an import loop is counted between: lfr_core's first-level package or flat module, or the tree."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "lfr_core" and len(parts) > 1 else parts[0]


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(name, path, known)) for name, path in found.items()}


def upward_imports(edges: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """(importer, imported) -> 'importer's layer -> imported layer' for each import that goes up or sideways."""
    found: dict[tuple[str, str], str] = {}
    for name, targets in sorted(edges.items()):
        for target in sorted(targets):
            low, high = layer(name), layer(target)
            if low != high and RUNGS[high] >= RUNGS[low]:
                found[name, target] = f"{low} -> {high}"
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def package_edges(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, targets in edges.items():
        found.setdefault(package(name), set()).update(package(t) for t in targets if package(t) != package(name))
    return found


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        layer(name)


def test_no_module_imports_from_a_layer_above_or_beside_its_own() -> None:
    found = upward_imports(graph())
    new = {pair: layers for pair, layers in found.items() if pair not in ALLOWED_UPWARD}
    assert not new, "imports from a higher layer (or a sibling on the same rung):\n" + "\n".join(
        f"{name} -> {target} ({layers})" for (name, target), layers in sorted(new.items()))
    gone = set(ALLOWED_UPWARD) - set(found)
    assert not gone, f"allowed upward imports that no longer exist, take them off ALLOWED_UPWARD: {sorted(gone)}"


def test_no_import_loop_between_modules() -> None:
    loops = cycles(graph())
    assert not loops, "modules that import each other, directly or round a loop:\n" + "\n".join(
        " <-> ".join(loop) for loop in loops)


def test_no_import_loop_between_packages() -> None:
    loops = [frozenset(loop) for loop in cycles(package_edges(graph()))]
    new = [loop for loop in loops if loop not in ALLOWED_CYCLES]
    assert not new, "packages that import each other, directly or round a loop:\n" + "\n".join(
        " <-> ".join(sorted(loop)) for loop in new)
    gone = set(ALLOWED_CYCLES) - set(loops)
    assert not gone, f"allowed loops that no longer exist, take them off ALLOWED_CYCLES: {sorted(map(sorted, gone))}"
