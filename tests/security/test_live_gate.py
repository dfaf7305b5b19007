"""Issue 32 item 2: a deployment's live gate runs below the face size its model recognises reliably only with an
authoriser's recorded decision. Direct SQL with a person's own login cannot lower it otherwise: not without a
decision, not with a decision in another's name or without a reason, not as the list's builder, not by rewriting
the recorded reliable size, and not by building a version that names no size curve, an older one, a size below
the curve's, or a factor larger than its deployment's policy pack states."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.security.conftest import a_deployment, a_version, direct, superuser

Denied = psycopg.errors.InsufficientPrivilege
LOWER = "UPDATE watchlist_versions SET gate_face_px = %s WHERE id = %s"
DECIDE = ("UPDATE watchlist_versions SET gate_face_px = %s, gate_decided_by = %s, gate_reason = %s, "
          "gate_decided_at = now() WHERE id = %s RETURNING gate_face_px")


def _point(face_px: int | None, high: float) -> dict:
    return {"condition": {"face_px": face_px, "jpeg_quality": None if face_px is None else 80, "blur_sigma": 0.0},
            "fnir": {"value": high / 2, "low": 0.0, "high": high}}


def a_curve(settings, embedder_sha256: str) -> int:
    """A recorded size curve: bound 0.1 as photographed, 0.12 at 64 px, 0.18 at 48 px, 0.5 at 32 px, so 48 px is
    reliable at factor 2 and 64 px at factor 1.5."""
    points = [_point(None, 0.1), _point(64, 0.12), _point(48, 0.18), _point(32, 0.5)]
    with superuser(settings) as conn:
        return int(conn.execute(
            """INSERT INTO model_condition_curves (embedder_name, embedder_version, embedder_sha256, detector_sha256,
                   model, manifest, seed, frame_width, frame_height, target_fpir, operating_threshold,
                   threshold_source, group_by, bootstrap, points, recorded_by)
               VALUES ('e', '1', %s, 'd', '{}', 'm.csv', 0, 640, 360, 0.01, 0.45, 't', '', 'b', %s, 'ada.admin')
               RETURNING id""", (embedder_sha256, Jsonb(points))).fetchone()["id"])


def _gated_version(settings, reliable: int = 48, built_by: str = "pat.planner") -> str:
    vid = a_version(settings, a_deployment(settings), "approved", built_by=built_by)
    with superuser(settings) as conn:
        conn.execute("UPDATE watchlist_versions SET reliable_face_px = %s, reliable_face_source = %s WHERE id = %s",
                     (reliable, Jsonb({"curve_id": None, "factor": 2.0, "text": "a test's size"}), vid))
    return vid


def test_a_gate_below_the_reliable_size_without_a_decision_is_refused(services):
    vid = _gated_version(services)
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="below the recorded reliable"):
        conn.execute(LOWER, (24, vid))
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="needs the role authoriser"):
        conn.execute(DECIDE, (24, "pat.planner", "busy street", vid))


def test_a_decision_must_be_the_authorisers_own_with_a_reason_and_not_the_builders(services):
    vid = _gated_version(services)
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="own name and with a reason"):
        conn.execute(DECIDE, (24, "pam.both", "busy street", vid))
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="own name and with a reason"):
        conn.execute(DECIDE, (24, "ann.authoriser", "  ", vid))
    built = _gated_version(services, built_by="pam.both")
    with direct(services, "pam.both") as conn, pytest.raises(Denied, match="needs a different authoriser"):
        conn.execute(DECIDE, (24, "pam.both", "busy street", built))


def test_a_gate_is_set_on_its_own_and_the_reliable_size_never_changes(services):
    vid = _gated_version(services)
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="never change"):
        conn.execute("UPDATE watchlist_versions SET reliable_face_px = 16 WHERE id = %s", (vid,))
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="on its own"):
        conn.execute("UPDATE watchlist_versions SET gate_face_px = 64, snapshot_uri = 'x' WHERE id = %s", (vid,))


def test_an_authorisers_recorded_decision_lowers_the_gate_audited(services):
    vid = _gated_version(services)
    with direct(services, "ann.authoriser") as conn:
        assert conn.execute(DECIDE, (32, "ann.authoriser", "faces close to the camera", vid)).fetchone()[
            "gate_face_px"] == 32
        audited = conn.execute("SELECT actor, details FROM audit.audit_log WHERE object_id = %s AND action = "
                               "'watchlist.gate'", (vid,)).fetchone()
    assert audited["actor"] == "ann.authoriser"
    assert (audited["details"]["gate_face_px"], audited["details"]["reliable_face_px"]) == (32, 48)
    assert audited["details"]["reason"] == "faces close to the camera"
    # Raising it at or above the reliable size needs no reason.
    with direct(services, "ann.authoriser") as conn:
        conn.execute("UPDATE watchlist_versions SET gate_face_px = 64, gate_decided_by = NULL, gate_reason = NULL, "
                     "gate_decided_at = NULL WHERE id = %s", (vid,))


def _build_as_planner(settings, deployment_id: str, embedder_sha256: str, reliable: int | None,
                      source: dict) -> None:
    with direct(settings, "pat.planner") as conn:
        conn.execute(
            """INSERT INTO watchlist_versions (deployment_id, version, built_by, manifest_uri, manifest_sha256,
                     detector, embedder, embedder_sha256, embedding_dim, threshold, entries_total, entries_accepted,
                     entries_rejected, reliable_face_px, reliable_face_source)
               VALUES (%s, 1, current_user, 's3://lfr-sources/m.csv', 'm', '{}', '{}', %s, 128, 0.4, 1, 1, 0, %s,
                       %s)""", (deployment_id, embedder_sha256, reliable, Jsonb(source)))


def test_a_build_records_the_reliable_size_of_its_models_latest_curve(services):
    curve = a_curve(services, "curved-model")
    dep = a_deployment(services, starts_in_s=3600)
    with pytest.raises(Denied, match=f"latest size curve, #{curve}"):
        _build_as_planner(services, dep, "curved-model", 24, {"curve_id": None, "factor": 2.0})
    with pytest.raises(Denied, match="gives a reliable face size of 48 px; the version records 24 px"):
        _build_as_planner(services, dep, "curved-model", 24, {"curve_id": curve, "factor": 2.0})
    with pytest.raises(Denied, match="gives a reliable face size of 64 px"):
        _build_as_planner(services, dep, "curved-model", 48, {"curve_id": curve, "factor": 1.5})
    _build_as_planner(services, dep, "curved-model", 48, {"curve_id": curve, "factor": 2.0})


def _under_uk_app(settings, deployment_id: str) -> None:
    """The deployment put under the loaded uk-app (its `[face_size]` factor 2.0), as the administrator."""
    with superuser(settings) as admin:
        admin.execute("UPDATE deployments SET policy_name = 'uk-app', use_case = 'crime_hotspot', "
                      "policy_version = (SELECT max(version) FROM policy_packs WHERE name = 'uk-app'), "
                      "location_rationale = 'wanted people seen here' WHERE id = %s", (deployment_id,))


def test_a_build_naming_a_factor_above_its_packs_is_refused(services):
    curve = a_curve(services, "packed-model")
    dep = a_deployment(services, starts_in_s=3600)
    _under_uk_app(services, dep)
    # At factor 5 the curve gives 32 px (0.5 = 5 x 0.1): a planner writing it would lower the gate from 48 px.
    with pytest.raises(Denied, match=r"policy pack uk-app v2 finds the reliable face size at a factor of at most 2; "
                                     r"the version names 5"):
        _build_as_planner(services, dep, "packed-model", 32, {"curve_id": curve, "factor": 5.0})
    with pytest.raises(Denied, match=r"names the factor its reliable face size was found at \(at most 2, policy pack "
                                     r"uk-app v2\)"):
        _build_as_planner(services, dep, "packed-model", 32, {"curve_id": curve})
    # At the pack's own factor, or a stricter one, the build stands.
    _build_as_planner(services, dep, "packed-model", 64, {"curve_id": curve, "factor": 1.5})
