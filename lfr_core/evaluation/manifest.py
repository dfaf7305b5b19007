"""Read an evaluation manifest: CSV with columns path, identity, dataset (note optional).

Paths are relative to the manifest's folder; rows with an empty identity (group photos, partial faces,
mirrored copies) are skipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from lfr_core.errors import InvalidInput

REQUIRED_COLUMNS = ("path", "identity", "dataset")


class ManifestError(InvalidInput):
    """A manifest that is missing or malformed; the message says what to fix."""


@dataclass(frozen=True)
class ManifestRow:
    path: Path  # absolute
    rel: str  # as written in the manifest
    identity: str
    dataset: str
    note: str = ""
    columns: dict[str, str] = field(default_factory=dict, hash=False, compare=False)  # all columns (--group-by)


def load_manifest(path: str | Path) -> list[ManifestRow]:
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"manifest not found: {p}")
    with p.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in cols]
        if missing:
            raise ManifestError(
                f"manifest {p} lacks column(s) {', '.join(missing)}; expected a header with: path,identity,dataset,note"
            )
        rows = []
        for rec in reader:
            rec = {(k or "").strip(): (v or "").strip() for k, v in rec.items()}
            if not rec.get("identity") or not rec.get("path"):
                continue
            rows.append(ManifestRow(p.parent / rec["path"], rec["path"], rec["identity"], rec.get("dataset") or "-",
                                    rec.get("note", ""), rec))
    if not rows:
        raise ManifestError(f"manifest {p} has no rows with an identity")
    return rows
