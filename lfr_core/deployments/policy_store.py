"""Policy packs in the database (issue 27 item 1): loading a pack file's version, once, and reading back the
version a deployment runs under. The database keeps each version whole with its content's hash, refuses any
change to it, and writes the audit row of each load (lfr_core/db/policy/30_deployments.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.deployments import queries
from lfr_core.deployments.policy import PolicyPack, available_packs, pack_file, parse_pack
from lfr_core.errors import NotFound, Refused
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting


@dataclass(frozen=True)
class LoadedPack:
    """One version of a pack as the database holds it."""

    pack: PolicyPack
    content_sha256: str
    loaded_by: str
    loaded_at: datetime


@dataclass(frozen=True)
class LoadResult:
    name: str
    version: int
    content_sha256: str
    loaded: bool  # False: this very version was loaded before, and nothing was written


def load(conn: psycopg.Connection[Any], pack: PolicyPack, actor: Actor) -> LoadResult:
    """Record this version of the pack. Loading the same content again changes nothing; a different content under
    a version already loaded is refused (a changed pack is a new version)."""
    actor.require("admin", "system", to="load a policy pack")
    with acting(conn, actor):
        before = queries.policy_pack(conn, pack.name, pack.version)
        if before is not None:
            if before["content_sha256"] != pack.sha256:
                raise Refused(f"policy pack {pack.ref} was loaded with different content (sha256 "
                              f"{before['content_sha256'][:12]}..., the file's {pack.sha256[:12]}...); a changed pack "
                              f"is a new version: raise `version` in the file and load it again")
            return LoadResult(pack.name, pack.version, pack.sha256, loaded=False)
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={"title": pack.title})
        row = queries.insert_policy_pack(conn, name=pack.name, version=pack.version, content=pack.content(),
                                         content_sha256=pack.sha256, loaded_by=actor.name)
    return LoadResult(pack.name, pack.version, pack.sha256, loaded=row is not None)


def load_file(conn: psycopg.Connection[Any], settings: Settings, name: str, actor: Actor) -> LoadResult:
    """Load the pack file of this name (`lfr policy load NAME`)."""
    return load(conn, pack_file(settings, name), actor)


def load_all(conn: psycopg.Connection[Any], settings: Settings, actor: Actor) -> list[LoadResult]:
    """Load every pack file's current version that is not loaded yet (`lfr services up`, `lfr db migrate`): the
    shipped packs, so a new installation can plan under `uk-app` at once, and the force's own."""
    return [load(conn, pack, actor) for pack in available_packs(settings)]


def _loaded(row: dict[str, Any]) -> LoadedPack:
    return LoadedPack(parse_pack(row["content"], f"{row['name']} v{row['version']} (loaded)"), row["content_sha256"],
                      row["loaded_by"], row["loaded_at"])


def loaded(conn: psycopg.Connection[Any], name: str, version: int | None = None) -> LoadedPack:
    """A loaded version of a pack (by default its latest); NotFound saying how to load it."""
    row = queries.policy_pack(conn, name, version)
    if row is None:
        which = f"{name} v{version}" if version is not None else name
        raise NotFound(f"policy pack {which} is not loaded in the database; an admin loads it with "
                       f"`lfr policy load {name}`")
    return _loaded(row)


def loaded_versions(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every loaded version (name, version, content_sha256, loaded_by, loaded_at)."""
    return queries.loaded_policy_packs(conn)


def of_deployment(conn: psycopg.Connection[Any], deployment: dict[str, Any]) -> LoadedPack | None:
    """The pack version a deployment runs under; None for one planned before packs existed."""
    if deployment.get("policy_name") is None:
        return None
    return loaded(conn, deployment["policy_name"], deployment["policy_version"])


def use_log_retention_days(conn: psycopg.Connection[Any], settings: Settings, deployment_id: str) -> int:
    """How long a deployment's per-use log is kept after each use: its pack's `retention.use_log_days`, else
    `audit.use_log_retention_days` for a deployment planned before packs existed."""
    rule = queries.pack_retention(conn, deployment_id)
    return int(rule["use_log_days"]) if rule else settings.audit.use_log_retention_days


def record_lines(conn: psycopg.Connection[Any], deployment: dict[str, Any]) -> list[tuple[str, str]]:
    """The deployment record as (label, text) lines, for the approval body, `lfr watchlist show` and `lfr deployment
    show`: the pack, the use case with its policy reference, the location rationale and each reference, a
    required one that is missing said so."""
    loaded_pack = of_deployment(conn, deployment)
    if loaded_pack is None:
        return [("Policy pack", "none (planned before policy packs)")]
    pack = loaded_pack.pack
    case = pack.use_case(deployment["use_case"])
    lines = [("Policy pack", f"{pack.ref} ({pack.title})"),
             ("Use case", f"{case.label} ({case.reference})"),
             ("Location rationale", deployment["location_rationale"])]
    for kind, column in (("dpia", "dpia_ref"), ("eia", "eia_ref"), ("fria", "fria_ref"),
                         ("registration", "registration_ref")):
        value = deployment.get(column)
        if value or kind in pack.required_assessments:
            lines.append((f"{kind.upper()} reference", value or "MISSING: required by the pack before approval"))
    if deployment.get("notice_withheld_reason"):
        lines.append(("Public notice withheld", deployment["notice_withheld_reason"]))
    return lines
