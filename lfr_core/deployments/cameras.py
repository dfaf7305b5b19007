"""Camera planning (issue 32 item 3): the farthest distance at which a camera sees a face at least as wide as the
engine needs, from the camera's resolution and horizontal field of view.

A camera of `width_px` pixels across a horizontal field of view `hfov` covers 2 d tan(hfov/2) metres at distance
d (a pinhole camera, the face near the optical axis), so it has

    pixels per metre at d = width_px / (2 d tan(hfov/2))

and a face `face_width_m` wide (default 0.16 m, about the width of an adult's head, which a detector's face box
roughly spans) covers face_width_m times that. Setting it to the size the engine needs, N px, gives

    d_max = face_width_m * width_px / (2 tan(hfov/2) * N).

Lens distortion, a face off the axis and a camera looking down shrink the face further: d_max is an upper bound
for siting a camera, not a promise.
"""

from __future__ import annotations

import math
import re

from lfr_core.config import Settings
from lfr_core.deployments.model import CameraRange
from lfr_core.errors import InvalidInput
from lfr_core.evaluation.model import ReliableSize

DEFAULT_FACE_WIDTH_M = 0.16
_RESOLUTION = re.compile(r"^\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*$")


def parse_resolution(text: str) -> tuple[int, int]:
    """(width, height) from "1920x1080"."""
    found = _RESOLUTION.match(text)
    if not found or not all(int(v) > 0 for v in found.groups()):
        raise InvalidInput(f"--resolution {text!r}: write the camera's width and height in pixels as WIDTHxHEIGHT, "
                           f"e.g. 1920x1080")
    return int(found.group(1)), int(found.group(2))


def reliable_face_px(settings: Settings, reliable: ReliableSize | None = None) -> tuple[int, str]:
    """The face width the plan aims for when none is given, and where it comes from in words: the model's reliable
    size from its recorded size curve (lfr_core/evaluation/conditions.py `latest_reliable_size`, with the factor
    quality.reliable_fnir_factor) when there is one, never below the live gate's minimum; else that minimum."""
    n = settings.quality.min_live_face_px
    gate = f"quality.min_live_face_px = {n} in the configuration (LFR_QUALITY__MIN_LIVE_FACE_PX)"
    if reliable is not None:
        if reliable.face_px >= n:
            return reliable.face_px, reliable.source()
        return n, f"the live gate's minimum face size, {gate}, above {reliable.source()}"
    return n, (f"the live gate's minimum face size, {gate}; no reliable size is derived from a recorded size curve "
               f"(record one with lfr eval --conditions size=... --record)")


def camera_range(resolution: tuple[int, int], hfov_deg: float, *, face_px: int, face_px_source: str,
                 face_width_m: float = DEFAULT_FACE_WIDTH_M) -> CameraRange:
    """The farthest distance at which a face `face_width_m` wide is `face_px` pixels wide (module docstring)."""
    width, height = resolution
    if not (math.isfinite(hfov_deg) and 0 < hfov_deg < 180):
        raise InvalidInput(f"--hfov {hfov_deg:g}: a horizontal field of view lies between 0 and 180 degrees "
                           f"(exclusive); read it from the camera's data sheet at the zoom it will use")
    if not (math.isfinite(face_width_m) and 0 < face_width_m <= 1):
        raise InvalidInput(f"--face-width-m {face_width_m:g}: a face's width in metres lies between 0 and 1 "
                           f"(0.16 for an adult)")
    if face_px < 1:
        raise InvalidInput(f"--face-px {face_px}: the face width to reach must be at least 1 pixel")
    per_metre_at_1m = width / (2 * math.tan(math.radians(hfov_deg) / 2))
    return CameraRange(width_px=width, height_px=height, hfov_deg=hfov_deg, face_width_m=face_width_m,
                       face_px=face_px, face_px_source=face_px_source, pixels_per_metre_at_1m=per_metre_at_1m,
                       max_distance_m=face_width_m * per_metre_at_1m / face_px)


def arithmetic(r: CameraRange) -> list[str]:
    """The working, line by line, as a planner can check it by hand."""
    half = r.hfov_deg / 2
    tan = math.tan(math.radians(half))
    return [
        f"pixels per metre at distance d = width_px / (2 d tan(hfov/2)) = {r.width_px} / (2 d tan({half:g}°)) "
        f"= {r.width_px} / ({2 * tan:.4f} d) = {r.pixels_per_metre_at_1m:.1f} / d",
        f"d_max = face_width_m * width_px / (2 tan(hfov/2) * N) = {r.face_width_m:g} * {r.width_px} / "
        f"({2 * tan:.4f} * {r.face_px}) = {r.face_width_m * r.width_px:g} / {2 * tan * r.face_px:.3f} "
        f"= {r.max_distance_m:.2f} m",
        f"check: at {r.max_distance_m:.2f} m the camera has {r.pixels_per_metre_at_1m / r.max_distance_m:.1f} px per "
        f"metre, so a {r.face_width_m:g} m face is {r.face_width_m * r.pixels_per_metre_at_1m / r.max_distance_m:.1f} px "
        f"wide",
    ]
