"""`lfr policy list|show|load`: the policy packs a deployment runs under (issue 27 item 1)."""

from __future__ import annotations

from typing import Any

import psycopg
import typer
from rich.table import Table

from lfr_core.deployments import policy, policy_store
from lfr_core.errors import LfrError
from lfr_ops.cli.common import console, domain_errors, emit, load_settings, signed_in

policy_app = typer.Typer(no_args_is_help=True, help="Policy packs: the written rules deployments run under")


def _loaded_versions(settings: Any) -> dict[str, list[int]] | None:
    """The versions loaded in the database by pack name; None when the caller is not signed in or the database
    does not answer (the files are read all the same)."""
    try:
        with signed_in(settings) as (conn, _):
            found: dict[str, list[int]] = {}
            for row in policy_store.loaded_versions(conn):
                found.setdefault(row["name"], []).append(row["version"])
            return found
    except (LfrError, OSError, psycopg.Error):
        return None


@policy_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """The pack files (shipped and the force's own, LFR_POLICY__PACKS_DIR), and the versions loaded."""
    settings = load_settings()
    with domain_errors():
        files = policy.pack_files(settings)
        packs = policy.available_packs(settings)
    loaded = _loaded_versions(settings)
    rows = [{"name": p.name, "version": p.version, "title": p.title, "jurisdiction": p.jurisdiction,
             "content_sha256": p.sha256, "file": str(files[p.name]),
             "use_cases": [u.id for u in p.use_cases],
             "loaded_versions": None if loaded is None else loaded.get(p.name, [])} for p in packs]

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("name", "version", "title", "use cases", "loaded in the database")
        for r in items:
            versions = r["loaded_versions"]
            table.add_row(r["name"], str(r["version"]), r["title"], ", ".join(r["use_cases"]),
                          "unknown (not signed in)" if versions is None
                          else ", ".join(f"v{v}" for v in versions) or "not loaded")
        console.print(table)

    emit(rows, as_json, render)


@policy_app.command("show")
def show(name: str = typer.Argument(..., help="The pack's name, e.g. uk-app"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One pack file in full: its use cases, required assessments and rules."""
    settings = load_settings()
    with domain_errors():
        pack = policy.pack_file(settings, name)
    data = {**pack.content(), "content_sha256": pack.sha256}

    def render(_: dict[str, Any]) -> None:
        console.print(f"[bold]{pack.name} v{pack.version}[/]: {pack.title} ({pack.jurisdiction})", highlight=False)
        cases = Table("use case", "label", "reference", "categories", title="use cases (closed list)")
        for u in pack.use_cases:
            label = u.label + (f" (offences: {'; '.join(u.offences)})" if u.offences else "")
            cases.add_row(u.id, label, u.reference, ", ".join(u.categories))
        console.print(cases)
        rules = Table(show_header=False, title="rules")
        rules.add_row("required before approval", ", ".join(pack.required_assessments) or "none")
        ext = pack.external_authorisation
        rules.add_row("external prior authorisation", "required" + (f", urgent start up to {ext.urgency_hours:g} h"
                                                                    if ext.urgency_hours else "")
                      if ext.required else "not required")
        floors = ", ".join(f"{m} {v:g}" for m, v in sorted(pack.threshold.floors.items()))
        rules.add_row("threshold floor", f"{floors + '; ' if floors else ''}other models {pack.threshold.default_floor:g}"
                      + ("; never below the recorded equitability value" if pack.threshold.never_below_equitability
                         else ""))
        rules.add_row("longest window", f"{pack.max_window_hours:g} h")
        rules.add_row("oldest list at activation", f"{pack.max_list_age_hours:g} h")
        rules.add_row("under 18", ("allowed" + (" with a written rationale" if pack.under_18.rationale_required else ""))
                      if pack.under_18.allowed else "refused")
        rules.add_row("retention", f"alerts {pack.retention.alerts_days} days, per-use log "
                                   f"{pack.retention.use_log_days} days")
        rules.add_row("two-person verification", "required" if pack.two_person_verification else "not required"
                      + (f" (derogation: {pack.two_person_derogation})" if pack.two_person_derogation else ""))
        n = pack.notice
        rules.add_row("public notice", f"{n.advance_notice_hours:g} h in advance"
                      + ("; may be withheld for a critical threat, with a recorded reason"
                         if n.may_withhold_for_critical_threat else "; never withheld"))
        rules.add_row("sources", "; ".join(pack.sources))
        rules.add_row("content sha256", pack.sha256)
        console.print(rules)

    emit(data, as_json, render)


@policy_app.command("load")
def load(name: str = typer.Argument(..., help="The pack's name (its file NAME.toml)"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Load the pack file's version into the database (admin; audited). A version once loaded never changes: a
    changed file must carry a new version."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        actor.require("admin", to="load a policy pack")
        result = policy_store.load_file(conn, settings, name, actor)
    emit(vars(result), as_json, lambda r: console.print(
        f"policy pack {r['name']} v{r['version']} " + ("loaded" if r["loaded"] else "was loaded already")
        + f" (sha256 {r['content_sha256'][:16]}...)", highlight=False))


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
