"""Deployments: where, when, why and on whose authority live facial recognition may run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from pydantic import AwareDatetime, BaseModel, Field, ValidationError, field_validator, model_validator

from lfr_core.audit import log as audit
from lfr_core.config import CATEGORIES, Settings
from lfr_core.db.rows import get_by_id
from lfr_core.deployments import policy_store, queries
from lfr_core.deployments.model import STAFF_ROLES, STATUSES, CameraRange
from lfr_core.deployments.policy import PolicyPack
from lfr_core.errors import InvalidInput, NotFound, Refused
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting

REFERENCE_FIELDS = {"dpia": "dpia_ref", "eia": "eia_ref", "fria": "fria_ref", "registration": "registration_ref"}


class DeploymentSpec(BaseModel):
    place: str = Field(min_length=1, max_length=500)
    purpose: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    intelligence_ref: str = Field(min_length=1, max_length=200)
    window_start: AwareDatetime
    window_end: AwareDatetime
    authorising_officer: str = Field(min_length=1, max_length=200)
    # None: every category the use case permits.
    allowed_categories: list[str] | None = Field(None, min_length=1)
    # None: the list's default, calibrated for its own model at build time (lfr_core.watchlist.threshold).
    threshold: float | None = Field(None, gt=0.0, lt=1.0)
    # The deployment record (issue 27 item 2): the policy pack (None: LFR_POLICY__DEFAULT_PACK, its latest loaded
    # version), the use case from its closed list, why listed people are expected at this place (Bridges para 130),
    # the references to the assessments the pack requires before approval, and a withheld notice's reason.
    policy: str | None = Field(None, min_length=1, max_length=64)
    use_case: str = Field(min_length=1, max_length=64)
    location_rationale: str = Field(min_length=1, max_length=4000)
    dpia_ref: str | None = Field(None, max_length=200)
    eia_ref: str | None = Field(None, max_length=200)
    fria_ref: str | None = Field(None, max_length=200)
    registration_ref: str | None = Field(None, max_length=200)
    notice_withheld_reason: str | None = Field(None, max_length=2000)

    @field_validator("place", "purpose", "legal_basis", "intelligence_ref", "authorising_officer", "use_case",
                     "location_rationale")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("dpia_ref", "eia_ref", "fria_ref", "registration_ref", "notice_withheld_reason")
    @classmethod
    def blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("allowed_categories")
    @classmethod
    def known_categories(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; allowed: {', '.join(CATEGORIES)}")
        return sorted(set(value))

    @model_validator(mode="after")
    def window_order(self) -> DeploymentSpec:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


def validate_spec(data: dict[str, Any], settings: Settings, *, now: datetime | None = None) -> DeploymentSpec:
    """Parse and check a deployment request; the window must lie in the future and not be too long."""
    try:
        spec = DeploymentSpec.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'deployment'}: {err['msg']}" for err in e.errors())
        raise InvalidInput(f"invalid deployment: {problems}") from e
    now = now or datetime.now(UTC)
    if spec.window_start <= now:
        raise InvalidInput(f"window_start {spec.window_start.isoformat()} is in the past; a window must lie in the future")
    low, high = settings.match.threshold_min, settings.match.threshold_max
    if spec.threshold is not None and not low <= spec.threshold <= high:
        raise InvalidInput(f"threshold {spec.threshold} is outside the allowed range [{low}, {high}] "
                           f"(LFR_MATCH__THRESHOLD_MIN/MAX); leave it unset to use the list model's calibration")
    longest = timedelta(hours=settings.watchlist.max_window_hours)
    if spec.window_end - spec.window_start > longest:
        raise InvalidInput(f"window of {spec.window_end - spec.window_start} exceeds the maximum of {longest}")
    return spec


def check_against_pack(spec: DeploymentSpec, pack: PolicyPack) -> list[str]:
    """The spec under its pack: InvalidInput when the use case is not in the pack's closed list, a category is
    outside what the use case permits, or the window is longer than the pack allows (the database refuses the
    same); returns the categories the deployment allows."""
    case = pack.use_case(spec.use_case)
    categories = spec.allowed_categories or list(case.categories)
    outside = sorted(set(categories) - set(case.categories))
    if outside:
        raise InvalidInput(f"use case {case.id} ({case.reference}) of policy pack {pack.ref} permits the categories "
                           f"{', '.join(case.categories)}; not {', '.join(outside)}")
    longest = timedelta(hours=pack.max_window_hours)
    if spec.window_end - spec.window_start > longest:
        raise InvalidInput(f"window of {spec.window_end - spec.window_start} is longer than policy pack {pack.ref} "
                           f"allows ({pack.max_window_hours:g} hours)")
    if spec.notice_withheld_reason and not pack.notice.may_withhold_for_critical_threat:
        raise InvalidInput(f"policy pack {pack.ref} does not allow the public notice to be withheld")
    return sorted(categories)


def missing_references(deployment: dict[str, Any], pack: PolicyPack) -> list[str]:
    """The assessments the pack requires before approval whose reference the deployment lacks."""
    return [a for a in pack.required_assessments if not deployment.get(REFERENCE_FIELDS[a])]


def under_pack(conn: psycopg.Connection, spec: DeploymentSpec, settings: Settings) -> tuple[PolicyPack, list[str]]:
    """The latest loaded version of the spec's pack (LFR_POLICY__DEFAULT_PACK when it names none) and the
    categories the deployment will allow; InvalidInput or NotFound when the pack does not allow the spec."""
    pack = policy_store.loaded(conn, spec.policy or settings.policy.default_pack).pack
    return pack, check_against_pack(spec, pack)


def create(conn: psycopg.Connection, spec: DeploymentSpec, actor: Actor, settings: Settings) -> dict[str, Any]:
    """Plan a deployment under the latest loaded version of its policy pack (the database checks the pack's rules
    again, as the acting person)."""
    actor.require("planner", "admin", "system", to="create a deployment")
    with acting(conn, actor):
        pack, categories = under_pack(conn, spec, settings)
        record = {"policy_name": pack.name, "policy_version": pack.version, "use_case": spec.use_case,
                  "location_rationale": spec.location_rationale, "dpia_ref": spec.dpia_ref, "eia_ref": spec.eia_ref,
                  "fria_ref": spec.fria_ref, "registration_ref": spec.registration_ref,
                  "notice_withheld_reason": spec.notice_withheld_reason}
        row = queries.insert_deployment(
            conn, place=spec.place, purpose=spec.purpose, legal_basis=spec.legal_basis,
            intelligence_ref=spec.intelligence_ref, window_start=spec.window_start, window_end=spec.window_end,
            authorising_officer=spec.authorising_officer, allowed_categories=categories,
            threshold=spec.threshold, created_by=actor.name, record=record)
        audit.append(conn, actor=actor.name, role=actor.role, action="deployment.create", object_type="deployment",
                     object_id=str(row["id"]),
                     details={**spec.model_dump(mode="json"), **record, "allowed_categories": categories})
    return row


def add_references(conn: psycopg.Connection, deployment_id: str | uuid.UUID, refs: dict[str, str | None],
                   actor: Actor) -> dict[str, Any]:
    """Record references to assessments the deployment lacks (keys dpia, eia, fria, registration), while it is
    planned and no list of it is sealed; a reference once given never changes (the database refuses)."""
    actor.require("planner", "admin", "system", to="add a deployment's references")
    given = {k: v.strip() for k, v in refs.items() if v is not None and v.strip()}
    unknown = sorted(set(given) - set(REFERENCE_FIELDS))
    if unknown or not given:
        raise InvalidInput(f"give at least one reference of: {', '.join(REFERENCE_FIELDS)}"
                           + (f" (not {', '.join(unknown)})" if unknown else ""))
    with acting(conn, actor):
        dep = get(conn, deployment_id, lock=True)
        row = queries.add_references(conn, dep["id"], given)
        audit.append(conn, actor=actor.name, role=actor.role, action="deployment.references", object_type="deployment",
                     object_id=str(dep["id"]), details={f"{k}_ref": v for k, v in given.items()})
    return row


def assign(conn: psycopg.Connection, deployment_id: str | uuid.UUID, person: str, role: str,
           actor: Actor) -> dict[str, Any]:
    """Make a person one of a deployment's operators or authorisers (idempotent); operators see and decide
    only the alerts of deployments they are assigned to (row-level security, lfr_core/db/policy/50_alerts.sql)."""
    from lfr_core.identity.people import roles_of

    actor.require("planner", "admin", "system", to="assign people to a deployment")
    if role not in STAFF_ROLES:
        raise InvalidInput(f"unknown assignment {role!r}; choose one of: {', '.join(STAFF_ROLES)}")
    with acting(conn, actor):
        dep = get(conn, deployment_id)
        if role not in roles_of(conn, person):
            raise InvalidInput(f"{person} is not a person with the role {role}")
        # The insert's trigger writes the audit row (deployment.assign); a repeat inserts and records nothing.
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={})
        row = queries.add_staff(conn, dep["id"], person, role, actor.name)
        if row is None:
            row = queries.assignment(conn, dep["id"], person, role)
    assert row is not None  # inserted, or there before (the conflict was this assignment)
    return row


def register_camera(conn: psycopg.Connection, deployment_id: str | uuid.UUID, name: str, r: CameraRange,
                    actor: Actor) -> dict[str, Any]:
    """Register a camera for a deployment with its range `r` (lfr_core/deployments/cameras.py camera_range, at the
    deployment's reliable face size), as a planner or admin; its trigger refuses a closed or cancelled deployment
    and writes the audit row (deployment.camera). A name is registered once per deployment."""
    actor.require("planner", "admin", "system", to="register a camera for a deployment")
    if not name.strip() or len(name) > 200:
        raise InvalidInput("--name: name the camera (1 to 200 characters), e.g. 'north entrance'")
    with acting(conn, actor):
        dep = get(conn, deployment_id)
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={})
        try:
            with conn.transaction():
                return queries.insert_camera(conn, dep["id"], name.strip(), r, actor.name)
        except psycopg.errors.UniqueViolation as e:
            raise Refused(f"deployment {dep['id']} already has a camera named {name.strip()!r}; registrations are "
                          f"never changed, so give this one another name") from e


def cameras_of(conn: psycopg.Connection, deployment_id: uuid.UUID) -> list[dict[str, Any]]:
    """The cameras registered for a deployment, with their range, in the order they were registered."""
    return queries.cameras_of(conn, deployment_id)


def visible(conn: psycopg.Connection, deployment_id: uuid.UUID) -> bool:
    """Whether the acting person may look into this deployment's alerts: an admin or auditor any, an
    operator those they are assigned to. An unknown deployment is not visible either."""
    return queries.visible(conn, deployment_id)


def get(conn: psycopg.Connection, deployment_id: str | uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    return get_by_id(conn, "deployments", deployment_id, lock=lock)


SHORT_ID_MIN = 4  # fewer hex digits would match half the table


def resolve_id(conn: psycopg.Connection, text: str) -> uuid.UUID:
    """A deployment's id from its full UUID or a unique prefix of it ("3f2a9c1e", as `lfr deployment list` shows
    them): NotFound when none matches, InvalidInput naming the matches when more than one does."""
    with suppress(ValueError):
        return uuid.UUID(text)
    prefix = text.strip().lower()
    if len(prefix) < SHORT_ID_MIN or not set(prefix) <= set("0123456789abcdef-"):
        raise InvalidInput(f"{text!r} is not a deployment id: give the UUID or at least its first {SHORT_ID_MIN} "
                           f"hex digits")
    found = queries.ids_starting_with(conn, prefix, 6)
    if not found:
        raise NotFound(f"no deployment id starts with {prefix!r}")
    if len(found) > 1:
        more = ", ..." if len(found) > 5 else ""
        raise InvalidInput(f"{prefix!r} is the start of more than one deployment id ("
                           f"{', '.join(str(i) for i in found[:5])}{more}): give more of the id")
    return uuid.UUID(str(found[0]))


def list_all(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return queries.all_deployments(conn)


def set_status(conn: psycopg.Connection, deployment_id: uuid.UUID, status: str, actor: Actor, reason: str) -> None:
    """Change a deployment's status inside the caller's transaction. The database's `state_transitions` says
    which changes exist and when; the deployment's trigger writes the audit row (`deployment.<status>`), with
    the reason; a cancellation's reason is also kept on the deployment."""
    if status not in STATUSES:
        raise Refused(f"unknown deployment status {status!r}")
    with conn.transaction():  # the row lock and the change's description hold until the change is made
        old = get(conn, deployment_id, lock=True)["status"]
        if old == status:
            return
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={"reason": reason})
        queries.update_status(conn, deployment_id, status, reason)


def in_window(deployment: dict[str, Any], now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return deployment["window_start"] <= now < deployment["window_end"]


# The first key of the advisory locks that serialise what finishes a deployment (see `finishing`).
_FINISHING_LOCK = 0x4C4652  # "LFR"


@contextmanager
def finishing(conn: psycopg.Connection, deployment_id: str | uuid.UUID) -> Iterator[None]:
    """Hold the deployment's advisory lock while activating, expiring, purging, lapsing or reporting it.

    Two actors finish a deployment: its own DAG run and the reconciling sweep that stands in for a run that
    died (lfr_core/workflow/sweeps.py). Whoever holds the lock first does a step; the other, once it gets the lock,
    reads the state again and finds the step done, so each step happens once (one audit row, one report).
    A session lock, so it holds across the several transactions of a purge; released on exit."""
    queries.lock_finishing(conn, _FINISHING_LOCK, deployment_id)
    try:
        yield
    finally:
        if not conn.closed:
            queries.unlock_finishing(conn, _FINISHING_LOCK, deployment_id)
