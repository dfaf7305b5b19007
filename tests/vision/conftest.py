"""Shared fixtures for the face engine tests: settings, the shared data folder and one engine per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from lfr_core.config import Settings, get_settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def shared_dir(settings: Settings) -> Path:
    d = Path(settings.shared_dir)
    if not (d / "data" / "faces" / "manifest.csv").is_file():
        pytest.skip(f"shared data folder absent at {d} (set LFR_SHARED_DIR)")
    return d


@pytest.fixture(scope="session")
def load(settings: Settings):
    from lfr_core.vision.images import load_image

    def _load(path: Path):
        return load_image(path, max_pixels=settings.vision.max_image_pixels, max_bytes=settings.vision.max_image_bytes)

    return _load


@pytest.fixture(scope="session")
def engine(settings: Settings):
    from lfr_core.vision.engine import build_engine

    return build_engine(settings)


@pytest.fixture(scope="session")
def with_vision(settings: Settings):
    """Settings copy with some vision fields changed: with_vision(detector="scrfd")."""

    def _make(**vision) -> Settings:
        return settings.model_copy(update={"vision": settings.vision.model_copy(update=vision)})

    return _make
