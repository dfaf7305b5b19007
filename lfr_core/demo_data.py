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
