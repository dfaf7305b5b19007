"""Where the demo's images come from: ../shared when present, else a folder the user names, else
images that ship inside installed packages (ultralytics' sample photos)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from lfr_core.config import Settings


@dataclass(frozen=True)
class DemoData:
    source: str  # "shared", "user", "packaged"
    root: Path
    description: str


def packaged_images() -> list[Path]:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return []
    assets = Path(spec.submodule_search_locations[0]) / "assets"
    return sorted(assets.glob("*.jpg"))


def choose_demo_data(settings: Settings, user_dir: Path | None = None) -> DemoData:
    if settings.faces_manifest.is_file():
        return DemoData("shared", settings.shared_dir / "data", f"labelled faces and video in {settings.shared_dir / 'data'}")
    if user_dir is not None:
        if not user_dir.is_dir():
            raise FileNotFoundError(f"demo data folder {user_dir} does not exist")
        return DemoData("user", user_dir, f"images in {user_dir}")
    images = packaged_images()
    if not images:
        raise FileNotFoundError(
            f"no demo data: {settings.shared_dir} is missing, no --data folder was given and no packaged images were found"
        )
    return DemoData("packaged", images[0].parent, f"{len(images)} sample photos shipped with ultralytics")


@dataclass(frozen=True)
class LabelledImage:
    identity: str
    dataset: str
    path: Path


def labelled_faces(settings: Settings, datasets: tuple[str, ...] | None = None) -> dict[str, list[LabelledImage]]:
    """Images of the shared faces manifest grouped by identity, in manifest order (multi-face rows skipped)."""
    import csv

    manifest = settings.faces_manifest
    by_identity: dict[str, list[LabelledImage]] = {}
    with manifest.open(newline="") as f:
        for row in csv.DictReader(f):
            if not row["identity"] or (datasets and row["dataset"] not in datasets):
                continue
            by_identity.setdefault(row["identity"], []).append(
                LabelledImage(row["identity"], row["dataset"], manifest.parent / row["path"])
            )
    return by_identity


def manifest_columns(subjects: list[dict[str, str]]) -> list[str]:
    """The manifest's required columns and the optional ones (issue 27 item 5) that any subject gives."""
    from lfr_core.watchlist.manifest import COLUMNS, OPTIONAL_COLUMNS

    return [*COLUMNS, *(c for c in OPTIONAL_COLUMNS if any(c in s for s in subjects))]


def stage_custody_manifest(store, settings: Settings, subjects: list[dict[str, str]], name: str) -> str:
    """Upload custody images and a CSV manifest naming them to the staging folder `staging/<name>/` of the
    sources bucket (the only S3 place a build reads from); returns the manifest URI.

    Each subject dict has subject_ref, category, rationale, provenance, capture_date and `path` (a local
    image) or `image_uri` (used as given, e.g. a deliberately unreachable one)."""
    import csv
    import io

    bucket = settings.s3.bucket_sources
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=manifest_columns(subjects))
    writer.writeheader()
    for subject in subjects:
        row = {k: v for k, v in subject.items() if k != "path"}
        if "path" in subject:
            path = Path(subject["path"])
            row["image_uri"] = store.put_bytes(bucket, f"staging/{name}/custody/{subject['subject_ref']}{path.suffix}",
                                               path.read_bytes()).uri
        writer.writerow(row)
    return store.put_bytes(bucket, f"staging/{name}/manifest.csv", out.getvalue().encode(), "text/csv").uri
