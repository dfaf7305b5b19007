"""`lfr camera plan` (issue 32 item 3): the farthest distance at which a face reaches the size the engine needs,
checked against the arithmetic done by hand, and bad input refused with a message that says what to write."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from lfr_core.deployments.cameras import camera_range, parse_resolution
from lfr_core.errors import InvalidInput
from lfr_ops.cli.main import app
from tests.conftest import environment


def _plan(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["camera", "plan", *args])
    return r.exit_code, r.output


def test_a_1080p_camera_at_60_degrees_sees_a_24_px_face_to_11_metres():
    # By hand: tan(30°) = 1/sqrt(3), so d = 0.16 * 1920 * sqrt(3) / (2 * 24) = 11.085 m; at that distance
    # 1920 / (2 * 11.085 / sqrt(3)) = 150 px per metre, and 0.16 m is 24 px.
    code, out = _plan("--resolution", "1920x1080", "--hfov", "60", "--face-px", "24", "--json")
    assert code == 0, out
    plan = json.loads(out.strip().splitlines()[-1])
    assert plan["max_distance_m"] == pytest.approx(0.16 * 1920 * math.sqrt(3) / 48, rel=1e-9)
    assert plan["max_distance_m"] == pytest.approx(11.085, abs=5e-4)
    assert plan["pixels_per_metre_at_1m"] == pytest.approx(1920 * math.sqrt(3) / 2, rel=1e-9)
    assert plan["face_px_source"] == "given with --face-px"


def test_a_4k_camera_at_90_degrees_sees_a_48_px_face_to_6_4_metres_and_shows_the_working():
    # By hand: tan(45°) = 1, so d = 0.2 * 3840 / (2 * 48) = 8 m with a 0.2 m face, 6.4 m with 0.16 m.
    code, out = _plan("--resolution", "3840x2160", "--hfov", "90", "--face-px", "48", "--face-width-m", "0.2")
    assert code == 0, out
    assert "Farthest distance: 8.00 m" in out
    assert "= 0.2 * 3840 / (2.0000 * 48) = 768 / 96.000 = 8.00 m" in out
    assert "at 8.00 m the camera has 240.0 px per metre, so a 0.2 m face is 48.0 px wide" in out
    assert camera_range((3840, 2160), 90, face_px=48, face_px_source="", face_width_m=0.16).max_distance_m == \
        pytest.approx(6.4)


def test_without_face_px_the_plan_aims_for_the_live_gate_minimum_and_says_so():
    with environment({"LFR_QUALITY__MIN_LIVE_FACE_PX": "32"}):
        code, out = _plan("--resolution", "1920x1080", "--hfov", "60", "--json")
    assert code == 0, out
    plan = json.loads(out.strip().splitlines()[-1])
    assert plan["face_px"] == 32 and "quality.min_live_face_px = 32" in plan["face_px_source"]
    assert plan["max_distance_m"] == pytest.approx(0.16 * 1920 * math.sqrt(3) / 64, rel=1e-9)


@pytest.mark.parametrize("args, words", [
    (["--resolution", "1920x1080", "--hfov", "0"], "--hfov 0: a horizontal field of view lies between 0 and 180"),
    (["--resolution", "1920x1080", "--hfov", "200"], "--hfov 200: a horizontal field of view lies between 0 and 180"),
    (["--resolution", "1920by1080", "--hfov", "60"], "as WIDTHxHEIGHT, e.g. 1920x1080"),
    (["--resolution", "1920x", "--hfov", "60"], "as WIDTHxHEIGHT"),
    (["--resolution", "0x1080", "--hfov", "60"], "as WIDTHxHEIGHT"),
    (["--resolution", "1920x1080", "--hfov", "60", "--face-width-m", "0"], "--face-width-m 0: a face's width"),
    (["--resolution", "1920x1080", "--hfov", "60", "--face-px", "0"], "--face-px 0: the face width to reach"),
])
def test_bad_camera_input_exits_2_saying_what_to_write(args, words):
    code, out = _plan(*args)
    assert code == 2, out
    assert words in " ".join(out.split()), out
    assert "Farthest distance" not in out


def test_resolution_is_width_by_height():
    assert parse_resolution("1280x720") == (1280, 720) and parse_resolution(" 640 X 480 ") == (640, 480)
    with pytest.raises(InvalidInput):
        parse_resolution("1280*720")
