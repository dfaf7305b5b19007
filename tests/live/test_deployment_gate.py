"""Issue 32 item 2: the live path gates each deployment's faces at the size its active version recorded (the
reliable size from the model's size curve, or an authoriser's decided size), not at the configured minimum, and
counts faces against the version's reliable size. BOX is an 80 px face."""

from __future__ import annotations

from lfr_core.live.state import LiveDeployment
from tests.live.test_pipeline import Fakes, frames, live_deployment


def _live(**version: int) -> LiveDeployment:
    live = live_deployment()
    assert live.version is not None
    live.version.update(version)
    return live


def test_a_face_below_the_versions_reliable_size_is_refused_and_never_embedded():
    fakes = Fakes()
    outcomes = frames(fakes.pipeline(min_face_px=24), _live(reliable_face_px=96), 3)
    assert fakes.embedded == 0 and not any(o.alerts for o in outcomes)
    assert [(o.bands.refused_small, o.bands.reliable, o.reliable_face_px) for o in outcomes] == [(1, 0, 96)] * 3


def test_an_authorisers_decided_gate_admits_faces_below_the_reliable_size():
    fakes = Fakes()
    outcomes = frames(fakes.pipeline(min_face_px=24), _live(reliable_face_px=96, gate_face_px=64), 3)
    assert fakes.embedded >= 1 and [len(o.alerts) for o in outcomes] == [0, 1, 0]
    assert [(o.bands.below_reliable, o.reliable_face_px) for o in outcomes] == [(1, 96)] * 3


def test_a_version_at_or_below_the_face_size_admits_it():
    fakes = Fakes()
    outcomes = frames(fakes.pipeline(min_face_px=24), _live(reliable_face_px=48), 2)
    assert fakes.embedded >= 1 and [(o.bands.reliable, o.reliable_face_px) for o in outcomes] == [(1, 48)] * 2


def test_a_version_built_before_sizes_were_recorded_gates_at_the_configured_minimum():
    live = _live()
    assert live.face_sizes(24, 48) == (24, 48)
    assert _live(reliable_face_px=32).face_sizes(24, 48) == (32, 32)
    assert _live(reliable_face_px=32, gate_face_px=20).face_sizes(24, 48) == (20, 32)
