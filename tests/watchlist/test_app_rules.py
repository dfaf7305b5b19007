"""Issue 27 item 5, the APP's watchlist rules at build: each entry's legal basis, capture date and age; a child on a
list only with a written rationale (which the deployment report carries); the newest suitable image preferred."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from lfr_core.errors import InvalidInput
from lfr_core.reporting import reports
from lfr_core.watchlist.build import build_version
from lfr_core.watchlist.manifest import ALL_COLUMNS, manifest_warnings, parse_manifest, under_18
from lfr_core.workflow import approval
from tests.conftest import PLANNER, make_deployment, subject_rows

WINDOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ALLOWED = ["wanted_suspect", "missing_person"]


def _manifest(*rows: dict[str, str]) -> bytes:
    lines = [",".join(ALL_COLUMNS)]
    for row in rows:
        values = {"subject_ref": "S-1", "category": "missing_person", "rationale": "missing and at risk",
                  "image_uri": "/custody/s1.jpg", "provenance": "custody", "capture_date": "2025-01-02",
                  "legal_basis": "PACE s.64A", **row}
        lines.append(",".join(values.get(c, "") for c in ALL_COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def _parse(data: bytes, **rule) -> list:
    return parse_manifest(data, "/lists/m.csv", ALLOWED, window_start=WINDOW, **rule)


@pytest.mark.parametrize("age", [{"date_of_birth": "2008-06-02"}, {"age_band": "under_18"}])
def test_an_under_18_entry_without_a_rationale_is_refused_with_its_reason(age):
    with pytest.raises(InvalidInput, match=r"row 2 \(S-1\): under 18 at the window's start; an under-18 entry needs "
                                           r"a written rationale \(under_18_rationale\)"):
        _parse(_manifest(age))
    [row] = _parse(_manifest({**age, "under_18_rationale": "court order M-1: missing child at risk"}))
    assert row.under_18_rationale == "court order M-1: missing child at risk"


def test_eighteen_on_the_windows_first_day_is_an_adult():
    [row] = _parse(_manifest({"date_of_birth": "2008-06-01"}))
    assert row.date_of_birth == date(2008, 6, 1) and not under_18(row.date_of_birth, None, WINDOW)
    assert under_18(date(2008, 6, 2), None, WINDOW)


def test_a_pack_that_forbids_children_refuses_them_even_with_a_rationale():
    with pytest.raises(InvalidInput, match="allows no children on a list"):
        _parse(_manifest({"age_band": "under_18", "under_18_rationale": "r"}), children_allowed=False)
    # Without the rationale requirement, a pack that allows children lists them as given.
    assert _parse(_manifest({"age_band": "under_18"}), child_rationale_required=False)


@pytest.mark.parametrize(("row", "expected"), [
    ({"age_band": "child"}, "age_band 'child' is not one of under_18, 18_plus"),
    ({"date_of_birth": "2010-02-30"}, "date_of_birth '2010-02-30' is not YYYY-MM-DD"),
    ({"date_of_birth": "2010-01-01", "age_band": "18_plus"}, "date_of_birth 2010-01-01 and age_band '18_plus' disagree"),
])
def test_an_age_that_cannot_be_read_is_refused(row, expected):
    with pytest.raises(InvalidInput, match=expected):
        _parse(_manifest(row))


def test_a_subjects_images_share_one_age_and_rationale():
    with pytest.raises(InvalidInput, match="age_band '18_plus' differs from the subject's earlier row"):
        _parse(_manifest({"age_band": "under_18", "under_18_rationale": "r"}, {"age_band": "18_plus"}))


def test_an_older_image_beside_a_newer_one_and_a_missing_legal_basis_are_warned_of():
    rows = _parse(_manifest({"capture_date": "2019-03-01", "age_band": "18_plus"},
                            {"capture_date": "2025-05-01", "age_band": "18_plus", "legal_basis": ""},
                            {"subject_ref": "S-2", "capture_date": "2024-01-01"}))
    assert manifest_warnings(rows) == [
        "S-1 image 1: an older image (captured 2019-03-01) is given while a newer one (captured 2025-05-01) exists; "
        "the APP prefers the newest suitable image",
        "S-1 image 2: no legal_basis recorded for the image",
        "S-2: neither date_of_birth nor age_band given; the under-18 rule cannot be checked",
    ]


def test_a_manifest_without_the_new_columns_still_reads():
    old = b"subject_ref,category,rationale,image_uri,provenance,capture_date\nS-1,missing_person,r,/a.jpg,c,\n"
    [row] = _parse(old)
    assert (row.legal_basis, row.date_of_birth, row.age_band) == (None, None, None)


def test_a_build_refuses_an_unexplained_child_and_reports_an_explained_one(db, services, store, face_engine,
                                                                          identities, stage):
    deployment = make_deployment(db, services)
    start = deployment["window_start"].astimezone(UTC).date()
    child = start.replace(year=start.year - 16).isoformat()
    rows = subject_rows(identities, 2)
    rows[1] = {**rows[1], "age_band": "", "date_of_birth": child}
    with pytest.raises(InvalidInput, match=rf"\({rows[1]['subject_ref']}\): under 18 at the window's start"):
        build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                      manifest_uri=stage(rows), actor=PLANNER)

    rationale = "named in the missing-person order M-7; at risk of exploitation"
    older = {**rows[0], "capture_date": "2019-01-01"}
    rows = [older, rows[0], {**rows[1], "under_18_rationale": rationale}]
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(rows), actor=PLANNER)
    entry = next(e for e in version["entries"] if e["subject_ref"] == rows[2]["subject_ref"])
    assert entry["date_of_birth"] == child and entry["under_18_rationale"] == rationale
    assert entry["legal_basis"] == rows[2]["legal_basis"]
    warning = (f"{rows[0]['subject_ref']} image 1: an older image (captured 2019-01-01) is given while a newer one "
               f"(captured 2025-06-01) exists; the APP prefers the newest suitable image")
    assert version["warnings"] == [warning]
    snapshot = json.loads(store.get_uri(version["snapshot_uri"]))
    assert snapshot["warnings"] == [warning]
    assert [e["under_18_rationale"] for e in snapshot["entries"]] == [None, None, rationale]

    # The authoriser reads both in the approval request (and `lfr watchlist show`, from the same entries).
    body = approval.brief(services, str(version["id"]))["body"]
    assert f"**Under 18 at the window's start:** {rows[2]['subject_ref']}: {rationale}" in body
    assert f"- Warning: {warning}" in body

    report = reports.build_report(db, str(deployment["id"]))
    assert report["watchlist"]["under_18"] == [{"version": version["version"], "rationale": rationale}]
    markdown = reports.render_markdown(report)
    assert "Subjects under 18 at the window's start: **1**" in markdown and rationale in markdown
    assert rows[2]["subject_ref"] not in markdown  # the published report names no child
