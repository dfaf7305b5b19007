"""Source manifests: who is proposed for a watchlist, in which category, why, and from which image.

A subject may have several rows, one per custody photograph (up to `watchlist.max_images_per_subject`);
they must agree on the category and rationale, the legal reason for listing the person.

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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lfr_core.config import CATEGORIES
from lfr_core.errors import InvalidInput
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError

COLUMNS = ("subject_ref", "category", "rationale", "image_uri", "provenance", "capture_date")


@dataclass(frozen=True)
class ManifestRow:
    subject_ref: str
    category: str
    rationale: str
    image_uri: str
    provenance: str
    capture_date: date | None
    image_index: int = 0  # which of the subject's images, in manifest order


def read_source(uri: str, store: ObjectStore | None) -> bytes:
    """Bytes of an `s3://bucket/key` object or a local file; a clear InvalidInput when unreachable."""
    if uri.startswith("s3://"):
        if store is None:
            raise InvalidInput(f"{uri}: no object store configured")
        try:
            return store.get_uri(uri)
        except (ObjectStoreError, ValueError) as e:
            raise InvalidInput(f"{uri} is unreachable: {e}") from e
    path = Path(uri.removeprefix("file://"))
    try:
        return path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"{uri} is unreachable: {e.strerror or e}") from e


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


def _records(data: bytes, uri: str) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    if uri.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"manifest {uri} is not valid JSON: {e}") from e
        rows = payload.get("entries") if isinstance(payload, dict) else payload
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(f"manifest {uri}: expected a list of objects (or {{'entries': [...]}})")
        return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"manifest {uri} is missing columns: {', '.join(missing)} (needs {', '.join(COLUMNS)})")
    return list(reader)


def parse_manifest(data: bytes, uri: str, allowed_categories: list[str], *,
                   max_images_per_subject: int = 5) -> list[ManifestRow]:
    """The manifest's rows, relative image paths resolved against `uri`; InvalidInput lists every problem."""
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
        ref, category = rec["subject_ref"].strip(), rec["category"].strip()
        where = f"row {line} ({ref or 'no subject_ref'})"
        if not ref:
            problems.append(f"{where}: empty subject_ref")
        elif ref in first_row:
            earlier = first_row[ref]
            for column in ("category", "rationale"):
                if rec[column].strip() != earlier[column].strip():
                    problems.append(f"{where}: {column} {rec[column].strip()!r} differs from the subject's earlier "
                                    f"row ({earlier[column].strip()!r}); every image of a subject shares one")
            if images[ref] >= max_images_per_subject:
                problems.append(f"{where}: more than {max_images_per_subject} images for {ref!r}")
        first_row.setdefault(ref, rec)
        index = images.get(ref, 0)
        images[ref] = index + 1
        if category not in CATEGORIES:
            problems.append(f"{where}: unknown category {category!r}; allowed: {', '.join(CATEGORIES)}")
        elif category not in allowed_categories:
            problems.append(f"{where}: category {category!r} is not authorised for this deployment")
        if not rec["rationale"].strip():
            problems.append(f"{where}: empty rationale (each entry needs a reason to be on the list)")
        if not rec["image_uri"].strip():
            problems.append(f"{where}: empty image_uri")
        if not rec["provenance"].strip():
            problems.append(f"{where}: empty provenance")
        captured = None
        if rec["capture_date"].strip():
            try:
                captured = date.fromisoformat(rec["capture_date"].strip())
            except ValueError:
                problems.append(f"{where}: capture_date {rec['capture_date']!r} is not YYYY-MM-DD")
        image_uri = resolve_image_uri(uri, rec["image_uri"].strip()) if rec["image_uri"].strip() else ""
        rows.append(ManifestRow(ref, category, rec["rationale"].strip(), image_uri, rec["provenance"].strip(), captured,
                                index))
    if problems:
        raise InvalidInput(f"manifest {uri} refused ({len(problems)} problems):\n  " + "\n  ".join(problems))
    return rows
