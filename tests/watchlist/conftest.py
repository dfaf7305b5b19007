"""Fixtures for watchlist tests: a planned deployment and a manifest of real custody-style images."""

from __future__ import annotations

import itertools
import time

import pytest

from lfr_ops.demo.data import labelled_faces, stage_custody_manifest

_names = itertools.count()


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


def local_manifest(folder, rows: list[dict[str, str]]):
    """A CSV manifest in `folder` whose image paths are relative to it (`faces/<ref>.<ext>`), as a planner
    keeps custody images beside their list; returns the manifest's path."""
    import csv
    import shutil
    from pathlib import Path

    faces = Path(folder) / "faces"
    faces.mkdir(parents=True, exist_ok=True)
    manifest = Path(folder) / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["subject_ref", "category", "rationale", "image_uri", "provenance",
                                               "capture_date"])
        writer.writeheader()
        for row in rows:
            image = Path(row["path"])
            shutil.copy(image, faces / f"{row['subject_ref']}{image.suffix}")
            writer.writerow({**{k: v for k, v in row.items() if k != "path"},
                             "image_uri": f"faces/{row['subject_ref']}{image.suffix}"})
    return manifest
