"""Fixtures for watchlist tests: a planned deployment and a manifest of real custody-style images."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core import deployments
from lfr_core.demo_data import labelled_faces, stage_custody_manifest
from lfr_core.roles import Actor

PLANNER = Actor("pat.planner", "planner")
AUTHORISER = Actor("ann.authoriser", "authoriser")
OPERATOR = Actor("olly.operator", "operator")
ADMIN = Actor("ada.admin", "admin")
_names = itertools.count()


def make_deployment(conn, settings, *, starts_in_s: float = 3600, length_s: float = 3600, categories=None):
    now = datetime.now(UTC)
    data = {
        "place": "Queen Street, Cardiff", "purpose": "locate people wanted on warrant",
        "legal_basis": "common law policing powers; force LFR policy v3", "intelligence_ref": "INT-2026-0042",
        "window_start": now + timedelta(seconds=starts_in_s),
        "window_end": now + timedelta(seconds=starts_in_s + length_s),
        "authorising_officer": "Supt. R. Evans", "threshold": settings.match.threshold,
    }
    if categories:
        data["allowed_categories"] = categories
    return deployments.create(conn, deployments.validate_spec(data, settings), PLANNER)


def wait_until(moment: datetime) -> None:
    delay = (moment - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)


@pytest.fixture(scope="session")
def identities(services, shared_dir):
    """Identities from the high-resolution sets: first image enrols, the rest probe."""
    faces = labelled_faces(services, ("deepface", "ageitgey"))
    return {name: imgs for name, imgs in faces.items() if len(imgs) >= 2}


def subject_rows(identities, count: int, *, category: str = "wanted_suspect") -> list[dict[str, str]]:
    return [
        {"subject_ref": f"SUBJ-{name}", "category": category, "rationale": "wanted on warrant W-123",
         "provenance": f"CUSTODY-{i:04d}", "capture_date": "2025-06-01", "path": str(imgs[0].path)}
        for i, (name, imgs) in enumerate(list(identities.items())[:count])
    ]


@pytest.fixture()
def stage(store, services):
    def _stage(rows: list[dict[str, str]]) -> str:
        return stage_custody_manifest(store, services, rows, f"test-{next(_names)}-{time.time_ns()}")

    return _stage
