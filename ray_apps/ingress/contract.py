"""The ingress's HTTP contract: the shapes its OpenAPI document promises and the code keeps.

Every error answers `{"detail": "<reason>"}`, request validation included (FastAPI's default 422 body is
a list of objects, which would make two shapes for one status), and every status a route can answer is
declared on it. `schemathesis` checks the running service against this document (tests/ray_apps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import BaseModel, Field

from lfr_core.identity.consultations import MAX_REASON, MIN_REASON
from lfr_core.live.wire import CAMERA_KEY_HEADER

CAMERA_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refuse it as input, not as a server error

# A consultation's stated reason, bounded as lfr_core.identity.consultations checks it (which logs it).
REASON = Query(..., min_length=MIN_REASON, max_length=MAX_REASON, pattern=NO_NUL,
               description="Why you are viewing this; logged with who and when (DPA 2018 s.62)")

camera_key = APIKeyHeader(name=CAMERA_KEY_HEADER, auto_error=False, scheme_name="CameraKey",
                          description="A camera key from `lfr apikey create`: posts frames to its one deployment")
person_token = HTTPBearer(auto_error=False, scheme_name="SignedInPerson",
                          description="A sign-in token naming a person (POST /v1/auth/token, or the force's OIDC "
                                      "provider); their roles come from the database")


class ErrorBody(BaseModel):
    detail: str = Field(description="Why the request was refused, in words")


_REASONS = {
    400: "not an image, or a malformed request",
    401: "not signed in (or a camera key missing, unknown or revoked)",
    403: "the person's roles, or the camera key's deployment, do not allow this",
    404: "no such deployment, alert or image",
    409: "refused in the current state (no active watchlist, outside the window, already decided)",
    413: "frame too large",
    415: "not image/jpeg or image/png",
    422: "a parameter or body field is invalid",
    503: "a service behind the ingress is unavailable; retry after Retry-After seconds",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the one error body."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        # JSON even on a route that answers HTML or a PDF when it succeeds (the public record's pages).
        entry: dict[str, Any] = {"model": ErrorBody, "description": _REASONS[code], "content": {"application/json": {}}}
        if code == 503:
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
        if code == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        declared[code] = entry
    return declared


def use_one_error_shape(app: FastAPI) -> None:
    """Request validation errors answer 422 with one readable `detail` string."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
            reasons.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(reasons) or "invalid request"}, status_code=422)


class AlertOut(BaseModel):
    id: str
    subject_ref: str
    score: float
    track_id: str


class FrameResult(BaseModel):
    deployment_id: str
    camera_id: str
    captured_at: datetime
    faces: int = Field(description="Faces detected in this frame")
    boxes: list[list[float]] = Field(description="Face boxes (x1, y1, x2, y2) of this frame; never stored")
    alerts: list[AlertOut] = Field(description="Alerts raised by this frame")


Outcome = Literal["confirmed", "declined", "not_engaged"]
# The viability assessment (issue 28 item 1): confirmed is a viable match, declined not; not_engaged, as an outcome,
# is a viable match officers decided not to engage (the alert's status is confirmed, its result not_engaged).
AlertStatus = Literal["pending", "confirmed", "declined"]


class Adjudication(BaseModel):
    outcome: Outcome
    note: str = Field("", max_length=2000, pattern=NO_NUL)


EngagementResult = Literal["subject", "someone_else", "evaded", "not_engaged"]
# Where an alert stands under two-person verification (lfr_core/alerts/model.py Verification, issue 28 item 2).
VerificationState = Literal["not required", "awaiting first verifier", "awaiting second verifier", "verified",
                            "not verified"]
Disposal = Literal["arrest", "other", "no_action"]


class Engaged(BaseModel):
    """The person was engaged: the subject, or someone else; with the engagement's outcome."""

    outcome: Literal["subject", "someone_else"]
    disposal: Disposal
    note: str = Field("", max_length=2000, pattern=NO_NUL)


class NotEngaged(BaseModel):
    """A viable match no one engaged: the subject evaded officers, or officers decided not to; no outcome. The names
    from before issue 28 (spoken_to, arrested, no_further_action, misidentified) stand for a result and its outcome
    (lfr_core/alerts/model.py LEGACY_ENGAGEMENTS), so they take none either."""

    outcome: Literal["evaded", "not_engaged", "spoken_to", "arrested", "no_further_action", "misidentified"]
    disposal: None = None
    note: str = Field("", max_length=2000, pattern=NO_NUL)


# The body of an engagement: its result decides whether an outcome comes with it, so the schema says so.
Engagement = Annotated[Engaged | NotEngaged, Field(discriminator="outcome")]


class AlertView(BaseModel):
    id: str
    deployment_id: str
    version_id: str
    subject_ref: str
    category: str
    rationale: str | None = Field(None, description="Why the subject is on the list (the watchlist entry)")
    score: float
    camera_id: str
    track_id: str
    captured_at: datetime
    raised_at: datetime
    status: AlertStatus
    adjudicated_by: str | None
    adjudicated_at: datetime | None
    note: str | None = Field(None, description="The officer's note with their decision")
    undo_until: datetime | None = Field(None, description="Until when its decider may take the decision back")
    engagement: EngagementResult | None = None
    disposal: Disposal | None = None
    engagement_by: str | None = None
    verification: VerificationState = Field("not required", description=(
        "Two-person verification (AI Act Art 14(5)), where the deployment's pack requires it; while an alert awaits "
        "its second verifier, only the first officer sees the first assessment"))
    second_status: AlertStatus | None = Field(None, description="The second verifier's assessment")
    second_by: str | None = None
    second_at: datetime | None = None
    probe_crop_url: str
    watchlist_image_url: str | None


class DeploymentSummary(BaseModel):
    id: str
    place: str
    window_start: datetime
    window_end: datetime
    status: str


class CameraTile(BaseModel):
    camera_id: str
    frames: int
    faces_seen: int
    frames_refused: int
    frames_dropped: int = Field(description="Frames the service dropped (back-pressure, a model outage)")
    frames_not_sent: int = Field(0, description="Frames the camera read and did not send (it was behind), as it "
                                                "reported them")
    faces_reliable: int = Field(description="Faces admitted by the live gate at the reliable size or wider")
    faces_small: int = Field(description="Faces narrower than the reliable size (refused by the gate or admitted)")
    faces_banded: int = Field(description="Faces counted by size (faces_seen less those counted before sizes were)")
    reliable_face_px: int | None = Field(description="The reliable size the faces were counted against, in px")
    warning: str | None = Field(description='"camera too far or too wide" when most of its faces were narrower')
    last_frame_at: datetime | None


class Dashboard(BaseModel):
    deployment_id: str
    place: str
    status: str
    window_start: datetime
    window_end: datetime
    seconds_to_start: float
    seconds_to_end: float
    version: int | None = Field(description="The live watchlist version, if one is active")
    threshold: float | None
    watchlist_size: int
    faces_seen: int
    alerts: int
    pending: int
    true_alerts: int
    false_alerts: int
    not_engaged: int
    engagement_outcomes: dict[str, int]
    false_alerts_per_face: float | None
    projected_false_alerts_per_face: float
    projection_source: str
    live_gate: str | None = Field(None, description="The live gate's face size with its evidence (issue 32 item 2)")
    camera_ranges: list[str] = Field(default_factory=list, description="Each registered camera and how far from it a "
                                                                       "face can still be recognised (issue 32 item 3)")


class ReviewView(BaseModel):
    """A post-deployment review assigned to the signed-in person (issue 28 item 5): the alert's class and decision,
    never its subject."""

    alert_id: str
    deployment_id: str
    alert_class: str
    assigned_by: str
    assigned_at: datetime
    category: str | None = None
    score: float | None = None
    camera_id: str | None = None
    captured_at: datetime | None = None
    status: str | None = None
    engagement: str | None = None
    disposal: str | None = None
    finding: str | None = None
    reviewer: str | None = None
    reviewed_at: datetime | None = None


class Finding(BaseModel):
    finding: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)


class Me(BaseModel):
    name: str
    roles: list[str]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class SignedOut(BaseModel):
    signed_out: Literal[True] = True
    refused_until: datetime = Field(description="The token's expiry: until then every replica refuses it")


class Health(BaseModel):
    ok: bool
    inflight: int
    deployments: int


class Flushed(BaseModel):
    cameras: int = Field(description="Cameras whose pending counters were written")
