"""The shapes reporting hands over: the transparency report (published as JSON, so a TypedDict: the JSON is the
record), the public results, and the officer's dashboard. Each is read by key on the other side (the Markdown
renderer, the public page, the console's Dashboard model), so the keys are declared here once and checked by
mypy wherever they are read. Numbers and public terms only: no subject, category of a person or image."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class ReportDeployment(TypedDict):
    id: str
    place: str
    purpose: str
    legal_basis: str
    authorising_officer: str
    window_start: str  # ISO 8601
    window_end: str
    status: str
    cancel_reason: str | None
    threshold: float | None  # of the last list used, else the deployment's own
    allowed_categories: list[str]


class ReportVersion(TypedDict):
    id: str
    version: int
    state: str
    built_by: str
    approved_by: str | None
    embedder: str | None
    threshold: float
    entries_total: int
    entries_accepted: int
    entries_rejected: int
    used: bool  # it was activated
    activated_at: str | None
    expired_at: str | None
    purged_at: str | None
    purge_receipt_uri: str | None


class ReportUnder18(TypedDict):
    """A child on a list and the written rationale for listing them (issue 27 item 5); no subject reference, as
    the report is published."""

    version: int
    rationale: str | None


class ReportWatchlist(TypedDict):
    size: int  # subjects accepted on the versions used
    versions: list[ReportVersion]
    under_18: list[ReportUnder18]


class ReportTraffic(TypedDict):
    cameras: int
    frames: int
    faces_seen: int
    frames_refused: int
    # Faces seen by whether they could have been recognised (issue 32 item 4), against the reliable size(s) below.
    faces_reliable: int  # admitted by the live gate and at least the reliable size: could have been recognised
    faces_below_reliable: int  # admitted, narrower than the reliable size
    faces_refused_by_gate: int  # never compared (too small or too uncertain a detection)
    faces_not_banded: int  # counted before the bands were kept
    reliable_face_px: list[int]  # the reliable size the cameras counted against (several if it changed)


class CategoryCounts(TypedDict):
    alerts: int
    confirmed: int
    declined: int


class ReportAlerts(TypedDict):
    total: int
    true_alerts: int
    false_alerts: int
    not_engaged: int
    engagement_results: dict[str, int]  # subject, someone_else, evaded, not_engaged -> alerts
    pending: int
    engagements: int
    outcomes: dict[str, int]  # status -> alerts
    engagement_outcomes: dict[str, int]  # what came of each engagement -> alerts
    by_category: dict[str, CategoryCounts]
    false_alerts_per_1000_faces: float | None


class ReportFalseAlerts(TypedDict):
    observed: int
    projected: float
    projected_fpir_at_watchlist: float
    per_comparison_fmr: float
    projection_source: str
    evidence_at_sealing: str | None  # lfr_core/watchlist/lifecycle.py evidence_line of the live list


class ReportCamera(TypedDict):
    """A camera registered for the deployment and how far from it a face can still be recognised (issue 32 item 3)."""

    name: str
    resolution: str
    hfov_deg: float
    face_width_m: float
    face_px: int
    max_distance_m: float


class ReportPlanning(TypedDict):
    """The live gate of the deployment's latest list with its evidence, and the cameras (issue 32 items 2, 3)."""

    live_gate: str | None  # lfr_core/watchlist/gate.py gate_line
    reliable_face_size: str | None  # gate.reliable_line
    cameras: list[ReportCamera]


class Report(TypedDict):
    """The per-deployment transparency report (lfr_core/reporting/reports.py build_report)."""

    deployment: ReportDeployment
    watchlist: ReportWatchlist
    planning: ReportPlanning
    traffic: ReportTraffic
    alerts: ReportAlerts
    false_alerts: ReportFalseAlerts
    equitability: dict[str, Any] | None  # lfr_core/evaluation/calibration.py equitability
    provisional: bool  # alerts still await a decision
    generated_at: str


class PublishedReport(TypedDict):
    json_uri: str
    markdown_uri: str
    json_sha256: str
    report: Report
    markdown: str


class PublicResults(TypedDict):
    """A deployment's results as the public record publishes them (lfr_core/reporting/public_record.py)."""

    deployment_id: str
    place: str
    window_start: str
    window_end: str
    status: str
    watchlist_size: int
    threshold: float | None
    faces_seen: int
    faces_recognisable: int  # of faces_seen, those that could have been recognised (the report's faces_reliable)
    reliable_face_px: list[int]
    alerts: int
    true_alerts: int
    false_alerts: int
    # The Met's four counts (issue 28 item 1); not_engaged is the true alerts left unconfirmed, as before.
    true_alerts_confirmed: int
    true_alerts_unconfirmed: int
    false_alerts_confirmed: int
    false_alerts_unconfirmed: int
    not_engaged: int
    awaiting_decision: int
    # Under two-person verification (Art 14(5)): assessed by one officer, not yet by the second; counted nowhere else.
    awaiting_second_verifier: int
    awaiting_result: int
    engagements: int
    arrests: int
    engagement_outcomes: dict[str, int]  # outcome of each engagement: arrest, other, no_action
    reviews_due: int
    reviews_done: int
    reconciled_with_audit_log: bool
    alerts_still_stored: int
    provisional: bool
    provisional_reasons: list[str]
    used: bool
    summary: str | None


class Dashboard(TypedDict):
    """What the operator console shows of a live deployment (ray_apps/ingress/contract.py Dashboard)."""

    deployment_id: str
    place: str
    status: str
    window_start: str
    window_end: str
    seconds_to_start: float
    seconds_to_end: float
    version: int | None
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
    live_gate: str | None  # lfr_core/watchlist/gate.py gate_line of the list used last (else the latest built)
    camera_ranges: list[str]  # "north entrance: 5.54 m at 48 px"


class Notice(TypedDict):
    """What the public is told before and during a deployment's window."""

    deployment_id: str
    force: str
    place: str
    window_start: datetime
    window_end: datetime
    purpose: str
    legal_basis: str
    status: str
    how_it_works: str  # the live gate's face size with its evidence, and the threshold (issue 32 item 2)
    not_on_the_list: str
    on_an_alert: str
    contact: str
    policy_url: str
    use_case: str | None  # its label and policy reference (issue 27); None for a deployment planned before packs
    duration: str  # the window's length, as the Home Office SOP asks it given in advance
    notice_withheld: bool  # advance notice withheld for a critical threat (the reason is recorded, not published)
