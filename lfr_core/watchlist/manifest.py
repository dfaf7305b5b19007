"""Source manifests: who is proposed for a watchlist, in which category, why, and from which image.

A subject may have several rows, one per custody photograph (up to `watchlist.max_images_per_subject`);
they must agree on the category and rationale, the legal reason for listing the person.

The APP's watchlist rules (issue 27 item 5) add optional columns: `legal_basis` (on which the image is held and
used), `date_of_birth` (YYYY-MM-DD) or `age_band` (`under_18` or `18_plus`), and `under_18_rationale`. A subject
under 18 at the window's start is refused unless the row carries a written rationale (or at all, when the pack
forbids children on a list). A missing legal basis, a subject of unknown age and an older image of a subject
given beside a newer one are warnings, recorded in the build report (`manifest_warnings`), not refusals: lists
exported by systems that do not keep these fields still build, and the authoriser sees what is missing before
sealing.

Structural faults (missing columns, an unknown or disallowed category, an empty rationale, a subject whose
rows disagree or who has too many images) refuse the whole manifest: the list's composition is the legal question, so it must be fixed by
the planner, not silently trimmed. Faults of a single image are rejected per entry during the build.
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lfr_core.config import CATEGORIES
from lfr_core.errors import InvalidInput

COLUMNS = ("subject_ref", "category", "rationale", "image_uri", "provenance", "capture_date")
# The APP's columns (issue 27 item 5): optional, so older manifests still read.
OPTIONAL_COLUMNS = ("legal_basis", "date_of_birth", "age_band", "under_18_rationale")
ALL_COLUMNS = COLUMNS + OPTIONAL_COLUMNS
AGE_BANDS = ("under_18", "18_plus")
# What every image of one subject shares.
SUBJECT_COLUMNS = ("category", "rationale", "date_of_birth", "age_band", "under_18_rationale")


@dataclass(frozen=True)
class ManifestRow:
    subject_ref: str
    category: str
    rationale: str
    image_uri: str
    provenance: str
    capture_date: date | None
    image_index: int = 0  # which of the subject's images, in manifest order
    legal_basis: str | None = None
    date_of_birth: date | None = None
    age_band: str | None = None
    under_18_rationale: str | None = None


def under_18(date_of_birth: date | None, age_band: str | None, at: datetime) -> bool:
    """Whether the subject is a child on the day `at` (the window's start, UTC); the database's lfr_under_18."""
    if age_band == "under_18":
        return True
    if date_of_birth is None:
        return False
    day = at.date() if at.tzinfo is None else at.astimezone(UTC).date()
    try:
        adult_on = date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:  # born on 29 February: PostgreSQL's `+ interval '18 years'` gives 28 February
        adult_on = date(date_of_birth.year + 18, 2, 28)
    return adult_on > day


def resolve_image_uri(manifest_uri: str, image_uri: str) -> str:
    """An image named relative to its manifest, wherever the manifest is read from (CLI, Airflow, a worker):
    `img/a.jpg` in `s3://b/lists/m.csv` is `s3://b/lists/img/a.jpg`, in `/data/m.csv` it is `/data/img/a.jpg`."""
    if image_uri.startswith("s3://") or os.path.isabs(image_uri.removeprefix("file://")):
        return image_uri
    if manifest_uri.startswith("s3://"):
        bucket, _, key = manifest_uri.removeprefix("s3://").partition("/")
        return f"s3://{bucket}/{posixpath.normpath(posixpath.join(posixpath.dirname(key), image_uri))}"
    base = Path(manifest_uri.removeprefix("file://")).parent
    return str(Path(os.path.normpath(base / image_uri.removeprefix("file://"))))


def absolute_manifest_uri(uri: str) -> str:
    """A local manifest path made absolute (against the working directory of whoever names it)."""
    if uri.startswith("s3://"):
        return uri
    return str(Path(os.path.abspath(uri.removeprefix("file://"))))


# Longest value each field may hold (characters): bounds what the database, the snapshot and every screen
# that shows an entry must carry.
FIELD_LIMITS = {"subject_ref": 128, "category": 64, "rationale": 2000, "image_uri": 2048, "provenance": 500,
                "capture_date": 10, "legal_basis": 500, "date_of_birth": 10, "age_band": 16,
                "under_18_rationale": 2000}
# Identifiers are compared, sorted and shown to authorisers: no invisible or direction-changing characters.
IDENTIFIERS = ("subject_ref", "image_uri", "provenance")
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
MAX_MANIFEST_BYTES = 5_000_000
MAX_PROBLEMS_LISTED = 20


def _field_problem(column: str, value: str) -> str | None:
    """Why a value cannot stand in `column`, or None."""
    if len(value) > FIELD_LIMITS[column]:
        return f"{column} is {len(value)} characters long; the limit is {FIELD_LIMITS[column]}"
    for ch in value:
        kind = unicodedata.category(ch)
        if ch in BIDI_CONTROLS:
            return f"{column} contains the text-direction control U+{ord(ch):04X}"
        if kind == "Cc" and not (column in ("rationale", "under_18_rationale") and ch in "\t\n"):
            return f"{column} contains the control character U+{ord(ch):04X}"
        if kind == "Cf" and column in IDENTIFIERS:
            return f"{column} contains the invisible character U+{ord(ch):04X}"
    return None


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise InvalidInput(f"duplicated keys {', '.join(map(repr, duplicated))}")
    return dict(pairs)


def _json_records(text: str, uri: str) -> list[dict[str, str]]:
    try:
        payload = json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"manifest {uri} is not valid JSON: {e}") from e
    except InvalidInput as e:
        raise InvalidInput(f"manifest {uri}: {e}") from e
    except RecursionError as e:
        raise InvalidInput(f"manifest {uri} nests too deeply; expected a list of flat objects") from e
    rows = payload.get("entries") if isinstance(payload, dict) else payload
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInput(f"manifest {uri}: expected a list of objects (or {{'entries': [...]}})")
    records = []
    for n, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(ALL_COLUMNS))
        if unknown:
            raise InvalidInput(f"manifest {uri}: entry {n} has unknown fields {', '.join(map(repr, unknown))} "
                               f"(allowed: {', '.join(ALL_COLUMNS)})")
        for key, value in row.items():
            if not isinstance(value, str) and not (key in ("capture_date", *OPTIONAL_COLUMNS) and value is None):
                raise InvalidInput(f"manifest {uri}: entry {n} field {key!r} must be a string, not "
                                   f"{type(value).__name__}")
        records.append({k: v or "" for k, v in row.items()})
    return records


def _csv_records(text: str, uri: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        names = [h.strip() for h in header]
        duplicated = sorted({h for h in names if names.count(h) > 1})
        if duplicated:
            raise InvalidInput(f"manifest {uri}: column {', '.join(map(repr, duplicated))} appears more than once")
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise InvalidInput(f"manifest {uri} is missing columns: {', '.join(missing)} (needs {', '.join(COLUMNS)})")
        unknown = [h for h in names if h not in ALL_COLUMNS]
        if unknown:
            raise InvalidInput(f"manifest {uri} has unknown columns: {', '.join(map(repr, unknown))} "
                               f"(allowed: {', '.join(ALL_COLUMNS)})")
        records = []
        for row in reader:
            if not row or row == [""]:
                continue
            if len(row) != len(names):
                raise InvalidInput(f"manifest {uri}: line {reader.line_num} has {len(row)} fields; the header has "
                                   f"{len(names)}")
            records.append(dict(zip(names, row)))
    except csv.Error as e:
        raise InvalidInput(f"manifest {uri}: line {reader.line_num} cannot be read as CSV ({e})") from e
    return records


def _records(data: bytes, uri: str) -> list[dict[str, str]]:
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidInput(f"manifest {uri} is {len(data)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    if uri.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        return _json_records(text, uri)
    return _csv_records(text, uri)


def _date(rec: dict[str, str], column: str, where: str, problems: list[str]) -> date | None:
    value = rec.get(column, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {column} {value!r} is not YYYY-MM-DD")
        return None


def _age_problem(rec: dict[str, str], born: date | None, band: str | None, where: str, window_start: datetime | None,
                 children_allowed: bool, child_rationale_required: bool) -> str | None:
    """Why this row's subject may not stand on the list as a child (the pack's under-18 rule), or None."""
    if band is not None and band not in AGE_BANDS:
        return f"{where}: age_band {band!r} is not one of {', '.join(AGE_BANDS)}"
    if window_start is None:
        return None
    child = under_18(born, band, window_start)
    if born is not None and band is not None and (band == "under_18") != under_18(born, None, window_start):
        return f"{where}: date_of_birth {born} and age_band {band!r} disagree at the window's start"
    if not child:
        return None
    if not children_allowed:
        return f"{where}: under 18 at the window's start; the deployment's policy pack allows no children on a list"
    if child_rationale_required and not rec.get("under_18_rationale", "").strip():
        return (f"{where}: under 18 at the window's start; an under-18 entry needs a written rationale "
                f"(under_18_rationale) saying why a child must be listed")
    return None


def parse_manifest(data: bytes, uri: str, allowed_categories: list[str], *,
                   max_images_per_subject: int = 5, window_start: datetime | None = None,
                   children_allowed: bool = True, child_rationale_required: bool = True) -> list[ManifestRow]:
    """The manifest's rows, relative image paths resolved against `uri`; InvalidInput lists every problem.

    With `window_start`, a subject under 18 then is refused unless the pack allows children on a list and, where
    it requires one, the row gives an under_18_rationale."""
    try:
        records = _records(data, uri)
    except UnicodeDecodeError as e:
        raise InvalidInput(f"manifest {uri} is not UTF-8 text") from e
    if not records:
        raise InvalidInput(f"manifest {uri} has no entries")
    problems: list[str] = []
    rows: list[ManifestRow] = []
    first_row: dict[str, dict[str, str]] = {}
    images: dict[str, int] = {}
    for line, rec in enumerate(records, start=2):
        missing = [c for c in COLUMNS if c not in rec]
        if missing:
            problems.append(f"entry {line - 1}: missing fields {', '.join(missing)}")
            continue
        bad = [why for column in ALL_COLUMNS if column in rec and (why := _field_problem(column, rec[column]))]
        if bad:
            problems.append(f"row {line}: " + "; ".join(bad))
            continue
        ref, category = rec["subject_ref"].strip(), rec["category"].strip()
        where = f"row {line} ({ref or 'no subject_ref'})"
        if not ref:
            problems.append(f"{where}: empty subject_ref")
        elif ref in first_row:
            earlier = first_row[ref]
            for column in SUBJECT_COLUMNS:
                if rec.get(column, "").strip() != earlier.get(column, "").strip():
                    problems.append(f"{where}: {column} {rec.get(column, '').strip()!r} differs from the subject's "
                                    f"earlier row ({earlier.get(column, '').strip()!r}); every image of a subject "
                                    f"shares one")
            if images[ref] >= max_images_per_subject:
                problems.append(f"{where}: more than {max_images_per_subject} images for {ref!r}")
        first_row.setdefault(ref, rec)
        index = images.get(ref, 0)
        images[ref] = index + 1
        if category not in CATEGORIES:
            problems.append(f"{where}: unknown category {category!r}; allowed: {', '.join(CATEGORIES)}")
        elif category not in allowed_categories:
            problems.append(f"{where}: category {category!r} is not authorised for this deployment (its use case "
                            f"permits: {', '.join(allowed_categories)})")
        if not rec["rationale"].strip():
            problems.append(f"{where}: empty rationale (each entry needs a reason to be on the list)")
        if not rec["image_uri"].strip():
            problems.append(f"{where}: empty image_uri")
        if not rec["provenance"].strip():
            problems.append(f"{where}: empty provenance")
        captured = _date(rec, "capture_date", where, problems)
        born = _date(rec, "date_of_birth", where, problems)
        band = rec.get("age_band", "").strip() or None
        if (why := _age_problem(rec, born, band, where, window_start, children_allowed, child_rationale_required)):
            problems.append(why)
        image_uri = resolve_image_uri(uri, rec["image_uri"].strip()) if rec["image_uri"].strip() else ""
        rows.append(ManifestRow(ref, category, rec["rationale"].strip(), image_uri, rec["provenance"].strip(), captured,
                                index, legal_basis=rec.get("legal_basis", "").strip() or None, date_of_birth=born,
                                age_band=band, under_18_rationale=rec.get("under_18_rationale", "").strip() or None))
    if problems:
        listed = problems[:MAX_PROBLEMS_LISTED]
        more = f"\n  ... and {len(problems) - len(listed)} more" if len(problems) > len(listed) else ""
        raise InvalidInput(f"manifest {uri} refused ({len(problems)} problems):\n  " + "\n  ".join(listed) + more)
    return rows


def manifest_warnings(rows: list[ManifestRow]) -> list[str]:
    """What the APP asks of a list that this manifest leaves open: an older image of a subject given while a newer
    one exists (the newest suitable image is preferred), an image without its legal basis, a subject of unknown
    age. Recorded in the build report; none refuses the list."""
    warnings: list[str] = []
    newest: dict[str, date] = {}
    for row in rows:
        if row.capture_date is not None and (row.subject_ref not in newest or row.capture_date > newest[row.subject_ref]):
            newest[row.subject_ref] = row.capture_date
    for row in rows:
        where = f"{row.subject_ref} image {row.image_index + 1}"
        latest = newest.get(row.subject_ref)
        if row.capture_date is not None and latest is not None and row.capture_date < latest:
            warnings.append(f"{where}: an older image (captured {row.capture_date}) is given while a newer one "
                            f"(captured {latest}) exists; the APP prefers the newest suitable image")
        if row.legal_basis is None:
            warnings.append(f"{where}: no legal_basis recorded for the image")
    seen: set[str] = set()
    for row in rows:
        if row.subject_ref in seen:
            continue
        seen.add(row.subject_ref)
        if row.date_of_birth is None and row.age_band is None:
            warnings.append(f"{row.subject_ref}: neither date_of_birth nor age_band given; the under-18 rule cannot "
                            f"be checked")
    return warnings
