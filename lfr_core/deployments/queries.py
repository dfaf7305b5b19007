"""The deployments context's SQL (issue 26 item 1): the only module that reads or writes deployments,
deployment_staff, api_keys, policy_packs and threshold_decisions (state_transitions, the table of allowed moves,
is read by the database's own triggers). Each function asks one thing and returns rows, records or scalars; writes run inside the caller's
transaction (`acting`, or `with conn.transaction()`). A deployment is fetched by id with the db package's
`get_by_id`, as every table's row is.

Deployment rows stay dicts for now: the workflow, the reports and the CLI take them apart by column."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import class_row, dict_row, scalar_row
from psycopg.types.json import Jsonb

from lfr_core.deployments.model import ApiKey, CameraRange

# -- deployments -------------------------------------------------------------------------------------------


def insert_deployment(conn: psycopg.Connection[Any], *, place: str, purpose: str, legal_basis: str,
                      intelligence_ref: str, window_start: datetime, window_end: datetime, authorising_officer: str,
                      allowed_categories: list[str], threshold: float | None, created_by: str,
                      record: dict[str, Any]) -> dict[str, Any]:
    """`record`: the deployment record's columns (policy_name, policy_version, use_case, location_rationale, the
    *_ref columns, notice_withheld_reason)."""
    columns = ("policy_name", "policy_version", "use_case", "location_rationale", "dpia_ref", "eia_ref", "fria_ref",
               "registration_ref", "notice_withheld_reason")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                        authorising_officer, allowed_categories, threshold, created_by,
                                        policy_name, policy_version, use_case, location_rationale, dpia_ref, eia_ref,
                                        fria_ref, registration_ref, notice_withheld_reason)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
            (place, purpose, legal_basis, intelligence_ref, window_start, window_end, authorising_officer,
             allowed_categories, threshold, created_by, *(record.get(c) for c in columns)),
        ).fetchone()
    assert row is not None  # RETURNING gives the inserted row
    return row


def planned_deployment(conn: psycopg.Connection[Any], *, created_by: str, intelligence_ref: str, place: str,
                       window_start: datetime, window_end: datetime) -> dict[str, Any] | None:
    """The deployment this planner already planned for these terms and window, still planned."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT * FROM deployments WHERE created_by = %s AND intelligence_ref = %s AND place = %s
               AND window_start = %s AND window_end = %s AND status = 'planned'""",
            (created_by, intelligence_ref, place, window_start, window_end),
        ).fetchone()


def all_deployments(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every deployment, latest window first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM deployments ORDER BY window_start DESC").fetchall()


def ids_starting_with(conn: psycopg.Connection[Any], prefix: str, limit: int) -> list[uuid.UUID]:
    """The ids (as the person may read them) whose text starts with `prefix` (lower-case hex and dashes)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute("SELECT id FROM deployments WHERE id::text LIKE %s ORDER BY id LIMIT %s",
                           (prefix.replace("%", "").replace("_", "") + "%", limit)).fetchall()


def visible(conn: psycopg.Connection[Any], deployment_id: uuid.UUID) -> bool:
    """Whether the acting person may look into this deployment: an admin, auditor or the platform any, an
    operator those they are assigned to (the database's lfr_holds and lfr_assigned decide)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        ok = cur.execute(
            """SELECT EXISTS (SELECT 1 FROM deployments WHERE id = %s AND (public.lfr_holds('admin', 'auditor', 'system')
                              OR public.lfr_assigned(id, 'operator')))""", (deployment_id,)).fetchone()
    return bool(ok)


def update_status(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, status: str, reason: str) -> None:
    """The new status; a cancellation's reason is kept on the deployment, any other status clears it."""
    conn.execute("UPDATE deployments SET status = %s, cancel_reason = CASE WHEN %s = 'cancelled' THEN %s END "
                 "WHERE id = %s", (status, status, reason, deployment_id))


def set_report_pending_alerts(conn: psycopg.Connection[Any], deployment_id: uuid.UUID | str, pending: int) -> None:
    """How many alerts awaited a decision when the deployment's report was last published."""
    conn.execute("UPDATE deployments SET report_pending_alerts = %s WHERE id = %s", (pending, deployment_id))


def lock_finishing(conn: psycopg.Connection[Any], key: int, deployment_id: uuid.UUID | str) -> None:
    """Wait for, then hold, the session's advisory lock (key, the deployment): it outlives transactions."""
    conn.execute("SELECT pg_catalog.pg_advisory_lock(%s, pg_catalog.hashtext(%s))", (key, str(deployment_id)))


def unlock_finishing(conn: psycopg.Connection[Any], key: int, deployment_id: uuid.UUID | str) -> None:
    conn.execute("SELECT pg_catalog.pg_advisory_unlock(%s, pg_catalog.hashtext(%s))", (key, str(deployment_id)))


# -- staff: who is assigned to a deployment, and in what role -----------------------------------------------


def add_staff(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, person: str, role: str,
              assigned_by: str) -> dict[str, Any] | None:
    """The new assignment; None when the person already held it (nothing is written)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """INSERT INTO deployment_staff (deployment_id, person, role, assigned_by) VALUES (%s, %s, %s, %s)
               ON CONFLICT DO NOTHING RETURNING *""", (deployment_id, person, role, assigned_by)).fetchone()


def assignment(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, person: str,
               role: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM deployment_staff WHERE deployment_id = %s AND person = %s AND role = %s",
                           (deployment_id, person, role)).fetchone()


def staff_of(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, role: str) -> list[str]:
    """The names of the people assigned to the deployment in this role."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute("SELECT person FROM deployment_staff WHERE deployment_id = %s AND role = %s ORDER BY person",
                           (deployment_id, role)).fetchall()


# -- camera keys: stored only as sha256, each bound to one deployment ----------------------------------------


def insert_camera_key(conn: psycopg.Connection[Any], key_sha256: str, name: str, role: str,
                      deployment_id: uuid.UUID) -> None:
    conn.execute("INSERT INTO api_keys (key_sha256, name, role, deployment_id) VALUES (%s, %s, %s, %s)",
                 (key_sha256, name, role, deployment_id))


def key_holder(conn: psycopg.Connection[Any], key_sha256: str, role: str) -> ApiKey | None:
    """The holder of an unrevoked key with this role; None for an unknown or revoked key."""
    with conn.cursor(row_factory=class_row(ApiKey)) as cur:
        return cur.execute("SELECT name, deployment_id FROM api_keys WHERE key_sha256 = %s AND revoked_at IS NULL "
                           "AND role = %s", (key_sha256, role)).fetchone()


def listed_keys(conn: psycopg.Connection[Any], *, include_revoked: bool) -> list[dict[str, Any]]:
    """Every key (or every unrevoked one), identified by its sha256's first 16 hex, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT left(key_sha256, 16) AS key_id, name, role, deployment_id, created_at, revoked_at FROM api_keys
               WHERE %s OR revoked_at IS NULL ORDER BY created_at""", (include_revoked,)).fetchall()


def unrevoked_key_digests(conn: psycopg.Connection[Any], pattern: str) -> list[str]:
    """The sha256 of each unrevoked key LIKE `pattern`."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute("SELECT key_sha256 FROM api_keys WHERE key_sha256 LIKE %s AND revoked_at IS NULL",
                           (pattern,)).fetchall()


def revoke_key(conn: psycopg.Connection[Any], key_sha256: str) -> dict[str, Any]:
    """The revoked key's name and role."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("UPDATE api_keys SET revoked_at = now() WHERE key_sha256 = %s RETURNING name, role",
                          (key_sha256,)).fetchone()
    assert row is not None, "revoke_key is given a digest read in the same transaction"
    return row


# Used by reporting


def assigned_deployments(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """The deployments the acting officer is assigned to (an admin or auditor: all), newest window first; the same
    test as `visible`."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT id, place, window_start, window_end, status FROM deployments
               WHERE public.lfr_holds('admin', 'auditor') OR public.lfr_assigned(id, 'operator')
               ORDER BY window_start DESC LIMIT 100""").fetchall()


def public_deployments(conn: psycopg.Connection[Any], statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """The public record's list: deployments in one of `statuses`, newest window first; one whose advance notice
    was withheld for a critical threat only once its window has opened."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT id, place, window_start, window_end, status FROM deployments
               WHERE status = ANY(%s) AND (notice_withheld_reason IS NULL OR window_start <= now())
               ORDER BY window_start DESC LIMIT 200""", ([str(s) for s in statuses],)).fetchall()


def closed_deployments(conn: psycopg.Connection[Any], since: datetime | None) -> list[dict[str, Any]]:
    """Closed deployments whose window started at or after `since`, oldest first, each row whole (a column that a
    later migration adds, such as use_case, comes with it when it exists); a use discarded on refusal of its
    authorisation (Art 5(3)) is left out."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT to_jsonb(d) AS row, d.window_start, d.window_end FROM deployments d
               WHERE d.status = 'closed' AND (%(s)s::timestamptz IS NULL OR d.window_start >= %(s)s)
                 AND NOT EXISTS (SELECT 1 FROM use_deletion_receipts r WHERE r.deployment_id = d.id)
               ORDER BY d.window_start, d.id""", {"s": since}).fetchall()
    return [{**r["row"], "window_start": r["window_start"], "window_end": r["window_end"]} for r in rows]


def deployments_between(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Deployments under a policy pack whose window opened in [start, end), for the annual statistics of Art 5(6):
    the structured columns only (no place, purpose or reference)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT id, policy_name, policy_version, use_case, status, window_start, window_end FROM deployments
               WHERE policy_name IS NOT NULL AND window_start >= %s AND window_start < %s
               ORDER BY window_start, id""", (start, end)).fetchall()


def deployments_overlapping(conn: psycopg.Connection[Any], *, place: str, status: str, since: datetime | None,
                            until: datetime | None) -> list[dict[str, Any]]:
    """Deployments whose window overlaps [since, until], whose place contains `place` and whose status is
    `status` ('' and None match any), newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT * FROM deployments
               WHERE (%(place)s = '' OR place ILIKE '%%' || %(place)s || '%%')
                 AND (%(status)s = '' OR status = %(status)s)
                 AND (%(since)s::timestamptz IS NULL OR window_end >= %(since)s)
                 AND (%(until)s::timestamptz IS NULL OR window_start < %(until)s)
               ORDER BY window_start DESC LIMIT 200""",
            {"place": place, "status": status, "since": since, "until": until}).fetchall()


# Cameras registered for a deployment (issue 32 item 3, migration 0028)


def insert_camera(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, name: str, r: CameraRange,
                  registered_by: str) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """INSERT INTO deployment_cameras (deployment_id, name, width_px, height_px, hfov_deg, face_width_m,
                                               face_px, face_px_source, max_distance_m, registered_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
            (deployment_id, name, r.width_px, r.height_px, r.hfov_deg, r.face_width_m, r.face_px, r.face_px_source,
             r.max_distance_m, registered_by)).fetchone()
    assert row is not None
    return row


def cameras_of(conn: psycopg.Connection[Any], deployment_id: uuid.UUID) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM deployment_cameras WHERE deployment_id = %s ORDER BY registered_at, id",
                           (deployment_id,)).fetchall()


# -- policy packs: each loaded version kept whole, never changed ---------------------------------------------


def insert_policy_pack(conn: psycopg.Connection[Any], *, name: str, version: int, content: dict[str, Any],
                       content_sha256: str, loaded_by: str) -> dict[str, Any] | None:
    """The loaded version's row; None when this name and version was loaded before (nothing is written)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """INSERT INTO policy_packs (name, version, content, content_sha256, loaded_by) VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT DO NOTHING RETURNING name, version, content_sha256, loaded_by, loaded_at""",
            (name, version, Jsonb(content), content_sha256, loaded_by)).fetchone()


def policy_pack(conn: psycopg.Connection[Any], name: str, version: int | None = None) -> dict[str, Any] | None:
    """One loaded version of a pack (by default its highest), with its content."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT * FROM policy_packs WHERE name = %s AND (%s::integer IS NULL OR version = %s)
               ORDER BY version DESC LIMIT 1""", (name, version, version)).fetchone()


def pack_retention(conn: psycopg.Connection[Any], deployment_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The retention rule of the pack a deployment runs under ({"alerts_days": .., "use_log_days": ..}); None for a
    deployment planned before packs existed, or an unknown one."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """SELECT p.content -> 'retention' AS retention FROM deployments d
               JOIN policy_packs p ON p.name = d.policy_name AND p.version = d.policy_version
               WHERE d.id::text = %s""", (str(deployment_id),)).fetchone()
    return None if row is None else row["retention"]


def loaded_policy_packs(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every loaded version, without its content, by name then version."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT name, version, content_sha256, loaded_by, loaded_at FROM policy_packs "
                           "ORDER BY name, version").fetchall()


def add_references(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, refs: dict[str, str]) -> dict[str, Any]:
    """Record missing references to assessments (the keys are dpia, eia, fria, registration); the database refuses a
    change to one already given."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """UPDATE deployments SET dpia_ref = coalesce(%(dpia)s, dpia_ref), eia_ref = coalesce(%(eia)s, eia_ref),
                      fria_ref = coalesce(%(fria)s, fria_ref),
                      registration_ref = coalesce(%(registration)s, registration_ref)
               WHERE id = %(id)s RETURNING *""",
            {"id": deployment_id, **{k: refs.get(k) for k in ("dpia", "eia", "fria", "registration")}}).fetchone()
    assert row is not None, "add_references is given a deployment read in the same transaction"
    return row


# -- external prior authorisation (migration 0029, lfr_core/db/policy/55_use_authorisation.sql) -------------


def insert_authorisation(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, kind: str, recorded_by: str, *,
                         authority: str | None = None, decision_ref: str | None = None,
                         decided_on: date | None = None, scope: str | None = None,
                         justification: str | None = None, authority_kind: str | None = None) -> dict[str, Any]:
    """An authority's decision or an urgent start; the database sets an urgent start's deadline from the pack, and
    a refusal's own trigger stops the use."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """INSERT INTO deployment_authorisations (deployment_id, kind, authority, authority_kind, decision_ref,
                                                      decided_on, scope, justification, deadline, recorded_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
            (deployment_id, kind, authority, authority_kind, decision_ref, decided_on, scope, justification, None,
             recorded_by)).fetchone()
    assert row is not None
    return row


# -- threshold decisions (issue 27 item 4) -------------------------------------------------------------------


def insert_threshold_decision(conn: psycopg.Connection[Any], *, deployment_id: uuid.UUID,
                              old_threshold: float | None, new_threshold: float, calibration_id: int,
                              embedder_sha256: str, preview: dict[str, Any], reason: str,
                              decided_by: str) -> dict[str, Any]:
    """The decision as recorded (the database sets its floor and time, or refuses it)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """INSERT INTO threshold_decisions (deployment_id, old_threshold, new_threshold, calibration_id,
                                                embedder_sha256, floor, preview, reason, decided_by)
               VALUES (%s, %s, %s, %s, %s, 0, %s, %s, %s) RETURNING *""",
            (deployment_id, old_threshold, new_threshold, calibration_id, embedder_sha256, Jsonb(preview), reason,
             decided_by)).fetchone()
    assert row is not None
    return row


def authorisations(conn: psycopg.Connection[Any], deployment_id: uuid.UUID) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM deployment_authorisations WHERE deployment_id = %s ORDER BY id",
                           (deployment_id,)).fetchall()


def authorisation_state(conn: psycopg.Connection[Any], deployment_id: uuid.UUID) -> str:
    with conn.cursor(row_factory=scalar_row) as cur:
        state = cur.execute("SELECT public.lfr_authorisation_state(%s)", (deployment_id,)).fetchone()
    assert isinstance(state, str)
    return state


def discard_use(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """Delete a refused or lapsed use's alerts, held crops, reviews and counters and write the receipt (the
    database's SECURITY DEFINER function, which refuses any other use); returns the receipt."""
    with conn.cursor(row_factory=scalar_row) as cur:
        receipt = cur.execute("SELECT public.lfr_discard_use(%s, %s)", (deployment_id, reason)).fetchone()
    assert isinstance(receipt, dict)
    return receipt


def deletion_receipt(conn: psycopg.Connection[Any], deployment_id: uuid.UUID) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM use_deletion_receipts WHERE deployment_id = %s",
                           (deployment_id,)).fetchone()


def uses_to_discard(conn: psycopg.Connection[Any]) -> list[uuid.UUID]:
    """Deployments whose authorisation was refused or lapsed and whose use is not yet discarded."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute(
            """SELECT d.id FROM deployments d
               WHERE EXISTS (SELECT 1 FROM deployment_authorisations a WHERE a.deployment_id = d.id)
                 AND NOT EXISTS (SELECT 1 FROM use_deletion_receipts r WHERE r.deployment_id = d.id)
                 AND public.lfr_use_stopped(d.id)
               ORDER BY d.window_start""").fetchall()


def discarded_deployments(conn: psycopg.Connection[Any]) -> set[uuid.UUID]:
    """Deployments whose use was discarded: their results are published nowhere."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return set(cur.execute("SELECT deployment_id FROM use_deletion_receipts").fetchall())


def set_threshold(conn: psycopg.Connection[Any], deployment_id: uuid.UUID, threshold: float,
                  decision_id: int) -> None:
    conn.execute("UPDATE deployments SET threshold = %s, threshold_decision_id = %s WHERE id = %s",
                 (threshold, decision_id, deployment_id))


def threshold_decision(conn: psycopg.Connection[Any], decision_id: int) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM threshold_decisions WHERE id = %s", (decision_id,)).fetchone()


def threshold_floor(conn: psycopg.Connection[Any], policy_name: str, policy_version: int, model: str | None,
                    embedder_sha256: str | None) -> float | None:
    """The floor as the database enforces it (lfr_threshold_floor in lfr_core/db/policy/35_thresholds.sql)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        value = cur.execute("SELECT public.lfr_threshold_floor(%s, %s, %s, %s)",
                            (policy_name, policy_version, model, embedder_sha256)).fetchone()
    return None if value is None else float(value)
