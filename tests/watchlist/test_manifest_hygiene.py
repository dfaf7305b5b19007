"""Malformed and hostile manifests are refused as a whole with one clear message, never a crash or a hang,
and the parser holds up under fuzzing (hypothesis): it returns rows or raises InvalidInput, nothing else."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lfr_core.errors import InvalidInput
from lfr_core.watchlist.manifest import ALL_COLUMNS, COLUMNS, FIELD_LIMITS, OPTIONAL_COLUMNS, parse_manifest

HEADER = ",".join(COLUMNS)
GOOD = "S-1,wanted_suspect,warrant W-1,/custody/s1.jpg,custody suite,2025-01-02"
ALLOWED = ["wanted_suspect", "missing_person"]


def refuse(text: str | bytes, uri: str = "/lists/m.csv") -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_manifest(text.encode() if isinstance(text, str) else text, uri, ALLOWED)
    message = str(caught.value)
    assert message.startswith("manifest ") and uri in message and "Traceback" not in message
    return message


def test_a_good_manifest_parses():
    [row] = parse_manifest(f"{HEADER}\n{GOOD}\n".encode(), "/lists/m.csv", ALLOWED)
    assert row.subject_ref == "S-1" and row.image_uri == "/custody/s1.jpg"


@pytest.mark.parametrize(("text", "expected"), [
    (f"{HEADER}\nS-1,wanted_suspect,warrant\n", "line 2 has 3 fields; the header has 6"),
    (f"{HEADER}\n{GOOD},extra\n", "line 2 has 7 fields"),
    (f"{HEADER},subject_ref\n{GOOD},S-2\n", "column 'subject_ref' appears more than once"),
    (f"{HEADER},notes\n{GOOD},x\n", "unknown columns: 'notes'"),
    (f"{HEADER}\n" + GOOD.replace("warrant W-1", "x" * 200_000) + "\n", "cannot be read as CSV"),
    (f"{HEADER}\n" + GOOD.replace("warrant W-1", "w\x00rrant") + "\n", "control character U+0000"),
    (f"{HEADER}\n" + GOOD.replace("S-1", "S" * 100_000) + "\n", "subject_ref is 100000 characters long"),
    (f"{HEADER}\n" + GOOD.replace("warrant W-1", "r" * 1_000_000) + "\n", "cannot be read as CSV"),
    (f"{HEADER}\n" + GOOD.replace("S-1", "S-\u202e1") + "\n", "text-direction control U+202E"),
    (f"{HEADER}\n" + GOOD.replace("S-1", "S-\u200b1") + "\n", "invisible character U+200B"),
    (f"{HEADER}\n" + GOOD.replace("custody suite", "custody\ufeffsuite") + "\n", "invisible character U+FEFF"),
    (f"{HEADER}\n" + GOOD.replace("warrant W-1", "warrant \u2067W-1") + "\n", "text-direction control U+2067"),
    (f"{HEADER}\n" + GOOD.replace("S-1", "S-\x071") + "\n", "control character U+0007"),
])
def test_malformed_csv_is_refused_with_its_reason(text, expected):
    assert expected in refuse(text)


def test_field_limits_are_enforced_for_every_field():
    for column, limit in FIELD_LIMITS.items():
        if column in ("category", "capture_date", "date_of_birth"):
            continue
        values = dict(zip(ALL_COLUMNS, GOOD.split(",") + [""] * len(OPTIONAL_COLUMNS)))
        values[column] = "a" * (limit + 1)
        assert f"{column} is {limit + 1} characters long" in refuse(
            ",".join(ALL_COLUMNS) + "\n" + ",".join(values.values()) + "\n")


def _json(entries) -> str:
    return json.dumps(entries)


ENTRY = dict(zip(COLUMNS, GOOD.split(",")))


@pytest.mark.parametrize(("text", "expected"), [
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    (_json([{**ENTRY, "subject_ref": 12345}]), "field 'subject_ref' must be a string, not int"),
    (_json([{**ENTRY, "rationale": ["a", "b"]}]), "must be a string, not list"),
    ('[{"subject_ref": "S-1", "subject_ref": "S-2", "category": "wanted_suspect"}]', "duplicated keys 'subject_ref'"),
    (_json([{**ENTRY, "nickname": "x"}]), "unknown fields 'nickname'"),
    (_json({"entries": "S-1"}), "expected a list of objects"),
])
def test_malformed_json_is_refused_with_its_reason(text, expected):
    assert expected in refuse(text, "/lists/m.json")


def test_a_null_capture_date_is_allowed_in_json():
    [row] = parse_manifest(_json([{**ENTRY, "capture_date": None}]).encode(), "/lists/m.json", ALLOWED)
    assert row.capture_date is None


def test_an_oversized_manifest_is_refused_before_parsing():
    assert "the limit is" in refuse(HEADER.encode() + b"\n" + b"a" * 6_000_000)


def test_many_problems_are_listed_within_bounds():
    rows = "\n".join(GOOD.replace("S-1", f"S-{i}").replace("wanted_suspect", "gang") for i in range(500))
    message = refuse(f"{HEADER}\n{rows}\n")
    assert "refused (500 problems)" in message and "... and 480 more" in message and len(message) < 5000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzzed_bytes_give_rows_or_a_clear_refusal(data):
    for uri in ("/lists/m.csv", "/lists/m.json"):
        with contextlib.suppress(InvalidInput):
            parse_manifest(data, uri, ALLOWED)


CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELL, min_size=0, max_size=8), max_size=6))
def test_fuzzed_csv_rows_give_rows_or_a_clear_refusal(rows):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    try:
        parsed = parse_manifest(out.getvalue().encode(), "/lists/m.csv", ALLOWED)
    except InvalidInput:
        return
    for row in parsed:  # whatever was accepted obeys the rules
        assert row.category in ALLOWED and row.subject_ref and len(row.subject_ref) <= FIELD_LIMITS["subject_ref"]


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=30))
def test_fuzzed_json_gives_rows_or_a_clear_refusal(payload):
    with contextlib.suppress(InvalidInput):
        parse_manifest(json.dumps(payload).encode(), "/lists/m.json", ALLOWED)
