"""End to end through Ray Serve over HTTP: a real video, a sealed watchlist, alerts for the enrolled
person only, adjudication, the window gate, bad input, privacy, and a replica killed mid-stream."""

from __future__ import annotations

import re
import struct
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from psycopg.conninfo import conninfo_to_dict

from lfr_core.config import get_settings
from lfr_core.db.connection import admin_dsn, connect
from lfr_core.deployments.cameras import reliable_face_px
from lfr_core.identity import tokens
from lfr_core.watchlist import gate
from lfr_ops.bench_env import metric_total
from tests.conftest import PASSWORD
from tests.ray_apps.conftest import APP_ARGS, MIRANDA

VIDEO = "data/video/short_hamilton_clip.mp4"
WHY = {"reason": "adjudicating alerts of the test deployment"}
FLOAT = r"-?\d+\.\d+(?:e-?\d+)?"
VECTOR_128 = re.compile(rf"{FLOAT}(?:\s*,\s*|\s+){FLOAT}" + rf"(?:(?:\s*,\s*|\s+){FLOAT}){{126}}")


def video_frames(shared_dir: Path, every: int = 4) -> list[tuple[float, bytes]]:
    cap = cv2.VideoCapture(str(shared_dir / VIDEO))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % every == 0:
            frames.append((i / fps, cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()))
        i += 1
    cap.release()
    return frames


def post(url: str, dep, key: str | None, body: bytes, *, camera="cam-1", when: datetime | None = None,
         ctype="image/jpeg") -> httpx.Response:
    headers = {"Content-Type": ctype, "X-Camera-Id": camera,
               "X-Capture-Time": (when or datetime.now(UTC)).isoformat()}
    if key:
        headers["X-API-Key"] = key
    return httpx.post(f"{url}/v1/deployments/{dep}/frames", content=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def streamed(serve_url, live, shared_dir) -> dict:
    """The clip streamed once (every 4th frame) as camera cam-1, capture times at the video's pace."""
    dep, key = live["deployment"]["id"], live["keys"]["camera"]
    start = datetime.now(UTC)
    responses = []
    for offset, jpeg in video_frames(shared_dir):
        r = post(serve_url, dep, key, jpeg, when=start + timedelta(seconds=offset))
        assert r.status_code == 200, r.text
        responses.append(r.json())
    return {"responses": responses, "alerts": [a for r in responses for a in r["alerts"]]}


def test_video_raises_alerts_for_the_enrolled_person_only(streamed, serve_url, live, people, shared_dir):
    responses = streamed["responses"]
    assert sum(r["faces"] for r in responses) > len(responses) // 2
    assert all(len(r["boxes"]) == r["faces"] for r in responses)
    alerts = streamed["alerts"]
    assert alerts, "Lin-Manuel Miranda is in the clip and enrolled: expected an alert"
    assert {a["subject_ref"] for a in alerts} == {MIRANDA}
    # one alert per person per track, and the cooldown per (camera, subject) holds within the clip
    assert len(alerts) == 1
    listed = httpx.get(f"{serve_url}/v1/deployments/{live['deployment']['id']}/alerts", params=WHY,
                       headers=people["operator"], timeout=10)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [a["id"] for a in alerts]
    row = listed.json()[0]
    assert row["camera_id"] == "cam-1" and row["version_id"] == str(live["version"]["id"])
    assert row["watchlist_image_url"] and row["score"] >= float(live["version"]["threshold"])
    probe = httpx.get(serve_url + row["probe_crop_url"], params=WHY, headers=people["operator"],
                      timeout=10)
    assert probe.status_code == 200 and probe.content[:2] == b"\xff\xd8"
    assert row["rationale"] == "wanted on warrant W-1" and row["category"] == "wanted_suspect"
    # The watchlist side is the face, framed as the probe crop is, not the whole custody photograph.
    face = httpx.get(serve_url + row["watchlist_image_url"], params=WHY, headers=people["operator"], timeout=10)
    assert face.status_code == 200 and face.content[:2] == b"\xff\xd8"
    custody = cv2.imread(str(shared_dir / "data" / "faces" / "ageitgey" / "lin-manuel-miranda.png"))
    crop = cv2.imdecode(np.frombuffer(face.content, np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape[0] < custody.shape[0] and crop.shape[1] < custody.shape[1]


def test_operator_adjudicates_an_alert(streamed, serve_url, live, people):
    alert_id = streamed["alerts"][0]["id"]
    op = people["operator"]
    assert httpx.post(f"{serve_url}/v1/alerts/{alert_id}/adjudication", json={"outcome": "confirmed"},
                      headers=people["planner"], timeout=10).status_code == 403
    assert httpx.post(f"{serve_url}/v1/alerts/{alert_id}/adjudication", json={"outcome": "maybe"},
                      headers=op, timeout=10).status_code == 422
    alert = f"{serve_url}/v1/alerts/{alert_id}"
    # Nothing to record yet: an outcome needs a confirmed alert, an undo a decision.
    assert httpx.post(f"{alert}/engagement", json={"outcome": "arrested"}, headers=op, timeout=10).status_code == 409
    assert httpx.post(f"{alert}/undo", headers=op, timeout=10).status_code == 409
    r = httpx.post(f"{alert}/adjudication", json={"outcome": "declined", "note": "not him"}, headers=op, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "declined" and r.json()["note"] == "not him"
    assert r.json()["undo_until"], "the decider may take it back for a while"
    # Another officer of the deployment (an admin here) cannot undo it, its decider can.
    assert httpx.post(f"{alert}/undo", headers=people["admin"], timeout=10).status_code == 409
    undone = httpx.post(f"{alert}/undo", headers=op, timeout=10)
    assert undone.status_code == 200 and undone.json()["status"] == "pending" and undone.json()["adjudicated_by"] is None
    r = httpx.post(f"{alert}/adjudication", json={"outcome": "confirmed"}, headers=op, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "confirmed" and r.json()["adjudicated_by"] == "olly.operator"
    again = httpx.post(f"{alert}/adjudication", json={"outcome": "declined"}, headers=op, timeout=10)
    assert again.status_code == 409
    assert httpx.post(f"{alert}/engagement", json={"outcome": "jailed"}, headers=op, timeout=10).status_code == 422
    engaged = httpx.post(f"{alert}/engagement", json={"outcome": "subject", "disposal": "arrest", "note": "on warrant"}, headers=op,
                         timeout=10)
    assert engaged.status_code == 200 and (engaged.json()["engagement"], engaged.json()["disposal"]) == ("subject", "arrest")
    assert engaged.json()["undo_until"] is None, "no undo once an outcome is recorded"
    assert httpx.post(f"{alert}/engagement", json={"outcome": "spoken_to"}, headers=op, timeout=10).status_code == 409
    assert httpx.post(f"{alert}/undo", headers=op, timeout=10).status_code == 409
    board = httpx.get(f"{serve_url}/v1/deployments/{live['deployment']['id']}/dashboard", headers=op, timeout=10).json()
    assert (board["alerts"], board["true_alerts"], board["engagement_outcomes"]["arrest"]) == (1, 1, 1)
    assert board["version"] == live["version"]["version"] and board["seconds_to_end"] > 0


def test_outside_the_window_frames_are_refused_unprocessed(streamed, serve_url, live, shared_dir, people):
    frames_before = metric_total(serve_url, "lfr_frames_total", people["admin"])
    jpeg = video_frames(shared_dir, every=100)[0][1]
    r = post(serve_url, live["idle"]["id"], live["keys"]["idle_camera"], jpeg)
    assert r.status_code == 409 and "no active watchlist" in r.json()["detail"]
    # not even decoded: a body that is no image gets the same 409, not a 400
    assert post(serve_url, live["idle"]["id"], live["keys"]["idle_camera"], b"junk").status_code == 409
    assert metric_total(serve_url, "lfr_frames_total", people["admin"]) == frames_before


def _png(width: int, height: int) -> bytes:
    """A valid, tiny-on-disk PNG of width x height black pixels (a decompression bomb for a decoder)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"".join(b"\x00" + bytes(width) for _ in range(height)), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def test_bad_input_is_refused_and_no_replica_crashes(streamed, serve_url, live, shared_dir, people):
    dep, key = live["deployment"]["id"], live["keys"]["camera"]
    good = video_frames(shared_dir, every=100)[0][1]
    assert post(serve_url, dep, key, b"this is not an image").status_code == 415  # not what its type says
    assert post(serve_url, dep, key, _png(64, 64), ctype="image/jpeg").status_code == 415
    assert post(serve_url, dep, key, good[: len(good) // 2]).status_code in (400, 422)  # truncated JPEG
    assert post(serve_url, dep, key, b"\0" * 9_000_000).status_code == 413
    assert post(serve_url, dep, key, _png(9000, 5000), ctype="image/png").status_code == 413
    assert post(serve_url, dep, key, good, ctype="text/plain").status_code == 415
    # A camera key is checked against its binding before any lookup: an unknown deployment and another
    # existing one answer alike, so the key learns nothing about which deployments exist.
    unknown = post(serve_url, "00000000-0000-0000-0000-000000000000", key, good)
    other = post(serve_url, live["idle"]["id"], key, good)
    assert (unknown.status_code, unknown.json()) == (other.status_code, other.json()) and other.status_code == 403
    assert post(serve_url, "not-a-uuid", key, good).status_code == 404
    assert post(serve_url, dep, None, good).status_code == 401
    assert post(serve_url, dep, "lfr_unknown", good).status_code == 401
    assert post(serve_url, dep, live["keys"]["idle_camera"], good).status_code == 403
    assert post(serve_url, dep, key, good, when=datetime.now(UTC) + timedelta(days=1)).status_code == 422
    assert post(serve_url, dep, key, good, when=datetime.now(UTC) - timedelta(hours=2)).status_code == 422
    assert post(serve_url, dep, key, good, camera="bad camera!").status_code == 422
    assert httpx.get(f"{serve_url}/v1/deployments/{dep}/alerts", params=WHY, timeout=10).status_code == 401
    # Another deployment's officer: its alerts answer as an unknown deployment's, and nothing is listed.
    hidden = httpx.get(f"{serve_url}/v1/deployments/{dep}/alerts", params=WHY, headers=people["idle_operator"],
                       timeout=10)
    assert hidden.status_code == 404 and "ivy.operator" in hidden.json()["detail"]
    # A camera key only posts frames.
    assert httpx.get(f"{serve_url}/v1/deployments/{dep}/alerts", params=WHY, headers={"X-API-Key": key},
                     timeout=10).status_code == 401
    r = post(serve_url, dep, key, good)
    assert r.status_code == 200, r.text


def test_every_route_against_every_role(serve_url, live, people):
    """Signed-in people in their roles from the database; a camera key, a token naming the database
    superuser and a signed-out token are no sign-in; a wrong password gets no token. Unknown alert ids keep
    this free of side effects: a permitted role gets 404. (More identities: tests/security/test_api_identity.py.)"""
    dep, nowhere = live["deployment"]["id"], "00000000-0000-0000-0000-000000000000"
    decision, outcome = {"outcome": "confirmed"}, {"outcome": "arrested"}
    routes = {
        "list alerts": ("GET", f"/v1/deployments/{dep}/alerts", WHY, None),
        "adjudicate": ("POST", f"/v1/alerts/{nowhere}/adjudication", None, decision),
        "undo": ("POST", f"/v1/alerts/{nowhere}/undo", None, None),
        "engagement": ("POST", f"/v1/alerts/{nowhere}/engagement", None, outcome),
        "probe crop": ("GET", f"/v1/alerts/{nowhere}/probe", WHY, None),
        "watchlist image": ("GET", f"/v1/alerts/{nowhere}/watchlist-image", WHY, None),
        "dashboard": ("GET", f"/v1/deployments/{dep}/dashboard", None, None),
        "cameras": ("GET", f"/v1/deployments/{dep}/cameras", None, None),
        "my deployments": ("GET", "/v1/me/deployments", None, None),
        "metrics": ("GET", "/metrics", None, None),
        "flush": ("POST", "/admin/flush", None, None),
    }
    expected = {  # role: status per route, in the order above
        "operator": (200, 404, 404, 404, 404, 404, 200, 200, 200, 403, 403),
        "idle_operator": (404, 404, 404, 404, 404, 404, 404, 404, 200, 403, 403),  # the live deployment is not theirs
        "planner": (403,) * 11,
        "auditor": (200, 403, 403, 403, 404, 404, 200, 200, 200, 403, 403),
        "admin": (200, 404, 404, 404, 404, 404, 200, 200, 200, 200, 200),
        "camera key": (401,) * 11,
        "nobody": (401,) * 11,
        "superuser": (401,) * 11,  # a token naming the database administrator: no person, so no sign-in
        "signed out": (401,) * 11,
    }
    signed_out = httpx.post(f"{serve_url}/v1/auth/token", data={"username": "ada.admin", "password": PASSWORD},
                            timeout=10).json()["access_token"]
    assert httpx.post(f"{serve_url}/v1/auth/logout", headers={"Authorization": f"Bearer {signed_out}"},
                      timeout=10).status_code == 200
    superuser = conninfo_to_dict(admin_dsn(get_settings()))["user"]
    headers = {**people, "camera key": {"X-API-Key": live["keys"]["camera"]}, "nobody": {},
               "superuser": {"Authorization": f"Bearer {tokens.issue(get_settings(), superuser)[0]}"},
               "signed out": {"Authorization": f"Bearer {signed_out}"}}
    seen = {}
    for role in expected:
        seen[role] = tuple(httpx.request(method, serve_url + path, params=params, headers=headers[role], json=body,
                                         timeout=10).status_code
                           for method, path, params, body in routes.values())
    assert seen == expected
    refused = httpx.post(f"{serve_url}/v1/auth/token", data={"username": "olly.operator", "password": "guess"},
                         timeout=10)
    assert refused.status_code == 401 and "access_token" not in refused.text


def test_a_frame_above_4_mib_and_under_the_body_limit_is_matched(streamed, serve_url, live, shared_dir, services):
    """Replicas talk over gRPC, whose default message cap (4 MiB) is below the body limit (8 MB)."""
    dep, key = live["deployment"]["id"], live["keys"]["camera"]
    frame = cv2.imdecode(np.frombuffer(video_frames(shared_dir, every=100)[1][1], np.uint8), cv2.IMREAD_COLOR)
    big = cv2.resize(frame, (3840, 2160), interpolation=cv2.INTER_CUBIC)  # a 4K camera
    big = np.clip(big + np.random.default_rng(0).normal(0, 10, big.shape), 0, 255).astype(np.uint8)
    body = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 97])[1].tobytes()
    assert 4.3 * 2**20 < len(body) < services.serve.max_body_bytes
    r = post(serve_url, dep, key, body)
    assert r.status_code == 200, r.text
    assert r.json()["faces"] >= 1


def test_a_crowded_frame_goes_to_the_embedder_in_parts_and_every_face_is_embedded(streamed, serve_url, live,
                                                                                  shared_dir, people):
    """More faces than `embed_split_above`: the ingress sends them in two requests made while handling one
    frame, which share its request id. Both are routed and answered (a router matching waiting requests by
    id loops without end here: the frame would fail after the embedder timeout with 503)."""
    dep, key = live["deployment"]["id"], live["keys"]["camera"]
    before = metric_total(serve_url, "lfr_faces_embedded_total", people["admin"])
    r = post(serve_url, dep, key, (shared_dir / "data" / "crowd" / "16.jpg").read_bytes(), camera="cam-crowd")
    assert r.status_code == 200, r.text
    assert r.json()["faces"] == 9  # all nine pass the live gate, and a new camera has no track to reuse
    assert metric_total(serve_url, "lfr_faces_embedded_total", people["admin"]) - before == 9


def test_openapi_metrics_console_and_health(serve_url, live, people):
    spec = httpx.get(serve_url + "/openapi.json", timeout=10).json()
    assert "/v1/deployments/{deployment_id}/frames" in spec["paths"]
    assert "/v1/alerts/{alert_id}/adjudication" in spec["paths"]
    health = httpx.get(serve_url + "/healthz", timeout=10).json()
    assert health["ok"] is True and str(live["deployment"]["id"]) not in str(health)
    # The metrics' labels name deployments and cameras: an admin's only.
    assert httpx.get(serve_url + "/metrics", timeout=10).status_code == 401
    assert httpx.get(serve_url + "/metrics", headers=people["operator"], timeout=10).status_code == 403
    text = httpx.get(serve_url + "/metrics", headers=people["admin"], timeout=10).text
    for name in ("lfr_frames_total", "lfr_faces_total", "lfr_alerts_total", "lfr_frames_refused_total",
                 "lfr_frames_dropped_total", "lfr_batch_size_bucket", "lfr_latency_seconds_bucket"):
        assert name in text
    page = httpx.get(serve_url + "/console?deployment=x", timeout=10)
    assert page.status_code == 200 and "adjudication" in page.text


def test_api_docs_load_every_asset_from_the_service_itself(serve_url):
    """A police network has no internet: the docs page may name no outside host, and what it names loads."""
    import re

    page = httpx.get(serve_url + "/docs", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert assets and not [a for a in assets if "//" in a], assets
    assert "url: '/openapi.json'" in page.text
    for asset in assets:
        fetched = httpx.get(serve_url + asset, timeout=10)
        assert fetched.status_code == 200 and len(fetched.content) > 100, asset
    assert "SwaggerUIBundle" in httpx.get(serve_url + "/docs/assets/swagger-ui-bundle.js", timeout=10).text
    assert httpx.get(serve_url + "/redoc", timeout=10).status_code == 404  # ReDoc would load from a CDN


def test_counters_reach_the_database_on_a_timer_without_more_traffic(streamed, serve_url, services, live):
    def counted():
        with connect(services) as conn:
            return conn.execute("SELECT * FROM deployment_counters WHERE deployment_id = %s AND camera_id = 'cam-1'",
                                (live["deployment"]["id"],)).fetchone()

    deadline = time.monotonic() + 3 * APP_ARGS.get("counters_flush_s", 5.0) + 5
    row = counted()
    while (row is None or row["frames"] < len(streamed["responses"])) and time.monotonic() < deadline:
        time.sleep(0.5)
        row = counted()
    assert row["frames"] >= len(streamed["responses"])
    assert row["faces_seen"] >= sum(r["faces"] for r in streamed["responses"])
    assert set(row) == {"deployment_id", "camera_id", "frames", "faces_seen", "frames_refused", "frames_dropped",
                        "faces_refused_small", "faces_refused_other", "faces_below_reliable", "faces_reliable",
                        "reliable_face_px", "frames_not_sent", "updated_at"}
    # every face seen is in one size band, counted against the reliable size (issue 32 item 4)
    bands = ("faces_refused_small", "faces_refused_other", "faces_below_reliable", "faces_reliable")
    assert sum(row[b] for b in bands) == row["faces_seen"] and row["faces_reliable"] > 0
    # against the size the deployment's list recorded when it was built (issue 32 item 2), else the model's
    with connect(services) as conn:
        version = gate.current_version(conn, live["deployment"]["id"]) or {}
    assert row["reliable_face_px"] == (version.get("reliable_face_px") or reliable_face_px(services)[0])


def test_flushing_counters_on_demand_needs_an_admin(serve_url, people):
    assert httpx.post(serve_url + "/admin/flush", timeout=10).status_code == 401
    operator = httpx.post(serve_url + "/admin/flush", headers=people["operator"], timeout=10)
    assert operator.status_code == 403
    admin = httpx.post(serve_url + "/admin/flush", headers=people["admin"], timeout=10)
    assert admin.status_code == 200


def test_nothing_about_unmatched_faces_is_kept(streamed, serve_url, services, store, lfr_home, live, people):
    httpx.post(serve_url + "/admin/flush", headers=people["admin"], timeout=10)
    with connect(services) as conn:
        crops = {r["probe_crop_uri"] for r in conn.execute(
            "SELECT probe_crop_uri FROM alerts WHERE probe_crop_uri IS NOT NULL").fetchall()}
        vector_columns = conn.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = 'public' AND udt_name IN ('vector', 'halfvec', '_float4', '_float8', 'bytea')"""
        ).fetchall()
        counter_columns = conn.execute(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = 'deployment_counters'""").fetchall()
        tables = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()]
        # Every row of every other table as JSON, less the evaluation scores column (checked by name below).
        dumps = {t: "\n".join(str(r) for r in conn.execute(
                     f"""SELECT (to_jsonb(t) - 'nonmated_top_scores')::text AS r FROM "{t}" t""").fetchall())
                 for t in tables if t != "watchlist_embeddings"}
    # Templates of listed people, the scores (one number per search, no templates) of labelled evaluations,
    # and the probe crops of alerts (matched faces only: each row's key is its alert's) while S3 is down.
    allowed = {("watchlist_embeddings", "embedding"), ("model_calibrations", "nonmated_top_scores"),
               ("held_alert_crops", "crop")}
    assert {(r["table_name"], r["column_name"]) for r in vector_columns} <= allowed
    # the per-camera counters, faces by size band included, are whole numbers beside the camera's key
    assert {r["column_name"]: r["data_type"] for r in counter_columns if r["data_type"] not in ("bigint", "integer")} \
        == {"deployment_id": "uuid", "camera_id": "text", "updated_at": "timestamp with time zone"}
    for table, text in dumps.items():
        assert not VECTOR_128.search(text), f"an embedding-like array in table {table}"
        assert "boxes" not in text, f"face boxes in table {table}"
    # the only objects in the alerts bucket are alert crops, one per alert
    keys = store.list_keys(services.s3.bucket_alerts, versions=True)
    assert crops and {f"s3://{services.s3.bucket_alerts}/{key}" for key, _ in keys} == crops
    assert len(keys) == len(crops)
    # logs: counts only; no embedding-like float arrays and no boxes
    logs = [*Path("/tmp/ray/session_latest/logs").rglob("*"), *(lfr_home / "logs").rglob("*")]
    scanned = 0
    for path in logs:
        if path.is_file() and path.stat().st_size < 50_000_000:
            text = path.read_text(errors="ignore")
            scanned += 1
            assert not VECTOR_128.search(text), f"an embedding-like array in {path}"
            assert '"boxes"' not in text, f"face boxes in {path}"
    assert scanned > 0


@pytest.mark.parametrize("transport", ["stream", "http"])
def test_lfr_feed_streams_the_clip_and_prints_a_json_summary(streamed, serve_url, live, shared_dir, transport):
    import json

    from typer.testing import CliRunner

    from lfr_ops.cli.main import app

    result = CliRunner().invoke(app, [
        "feed", "--deployment", str(live["deployment"]["id"]), "--source", str(shared_dir / VIDEO), "--fps", "10",
        "--api-key", live["keys"]["camera"], "--camera", f"cam-{transport}", "--url", serve_url, "--max-frames", "30",
        "--transport", transport, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["frames_read"] == 30 and summary["frames_ok"] + summary["dropped"] == 30
    assert summary["frames_ok"] > 0 and summary["faces"] > 0


def test_the_frame_stream_checks_its_key_and_each_frame(serve_url, live, shared_dir):
    """A camera's WebSocket: refused with 4000 + the HTTP status for a bad key; each frame answered in order,
    a frame that is not an image with its own 415 while the stream goes on."""
    import json
    import struct

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    dep = live["deployment"]["id"]
    url = serve_url.replace("http://", "ws://") + f"/v1/deployments/{dep}/stream?camera=cam-ws"
    for key, code in (("lfr_unknown", 4401), (live["keys"]["idle_camera"], 4403)):
        with connect(url, additional_headers={"X-API-Key": key}) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv()
        assert closed.value.rcvd.code == code
    good = video_frames(shared_dir, every=100)[0][1]
    with connect(url, additional_headers={"X-API-Key": live["keys"]["camera"]}) as ws:
        ws.send(json.dumps({"not_sent": 4}))  # the camera's losses so far: counted, not answered (issue 31 item 8)
        for body in (good, b"not an image at all", good):
            ws.send(struct.pack(">d", time.time()) + body)
        answers = [json.loads(ws.recv()) for _ in range(3)]
    assert [a["status"] for a in answers] == [200, 415, 200]
    assert answers[0]["camera_id"] == "cam-ws" and "faces" in answers[2]


def test_lfr_feed_stops_with_the_reason_outside_the_window(serve_url, live, shared_dir):
    from typer.testing import CliRunner

    from lfr_ops.cli.main import app

    result = CliRunner().invoke(app, [
        "feed", "--deployment", str(live["idle"]["id"]), "--source", str(shared_dir / "data" / "crowd"),
        "--api-key", live["keys"]["idle_camera"], "--url", serve_url, "--max-frames", "3"])
    assert result.exit_code == 3 and "no active watchlist" in result.output


def test_prescale_raises_and_lowers_replicas_and_warms(streamed, serve_url):
    from ray.serve.context import _get_global_client

    from lfr_core.live.scaling import model_deployments
    from ray_apps.app import app_config
    from ray_apps.scaling.prescale import lower, prescale

    def replicas() -> dict[str, set[str]]:
        app = _get_global_client().get_serve_details()["applications"]["lfr"]
        return {name: {r["replica_id"] for r in dep["replicas"] if r["state"] == "RUNNING"}
                for name, dep in app["deployments"].items()}

    before = replicas()
    raised = prescale(min_replicas=2)
    # Both models; a fused detector's alone (LFR_VISION__FUSED_DETECTOR=true): its embedder stays at zero
    assert raised["serve"] == "running" and set(raised["warm_s"]) == set(model_deployments(app_config()["args"]))
    during = replicas()
    # In place: the ingress (its tracks, its counters) and the warm model replicas are the same ones.
    assert during["Ingress"] == before["Ingress"]
    assert len(during["Detector"]) >= 2 and before["Detector"] <= during["Detector"]
    if "Embedder" not in raised["warm_s"]:  # fused: the embedder is not raised (here it keeps what the app asked)
        assert during["Embedder"] == before["Embedder"] and "Embedder" not in raised["max_replicas"]
    assert lower()["serve"] == "running"
    assert replicas()["Ingress"] == before["Ingress"]
    assert httpx.get(serve_url + "/healthz", timeout=10).status_code == 200


@pytest.mark.slow
def test_a_killed_detector_replica_is_replaced_and_the_feed_recovers(streamed, serve_url, live, shared_dir):
    import ray

    dep, key = live["deployment"]["id"], live["keys"]["camera"]
    frames = video_frames(shared_dir, every=10)
    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True) if "Detector" in a["name"]]
    assert replicas
    ray.kill(ray.get_actor(replicas[0]["name"], namespace=replicas[0]["namespace"]), no_restart=True)
    codes = []
    deadline = time.monotonic() + 90
    i = 0
    while time.monotonic() < deadline:
        r = post(serve_url, dep, key, frames[i % len(frames)][1])
        codes.append(r.status_code)
        i += 1
        if codes[-3:] == [200, 200, 200]:
            break
        time.sleep(0.3)
    assert codes[-3:] == [200, 200, 200], codes
    assert set(codes) <= {200, 503}, codes


def test_batch_size_changes_live_through_reconfigure(streamed, serve_url):
    from ray import serve
    from ray.serve.context import _get_global_client

    from ray_apps.app import deploy_config

    detector = serve.get_deployment_handle("Detector", app_name="lfr")
    app = _get_global_client().get_serve_details()["applications"]["lfr"]
    before = {r["replica_id"] for r in app["deployments"]["Detector"]["replicas"] if r["state"] == "RUNNING"}
    config = dict(app["deployed_app_config"])
    config["deployments"] = [
        {**d, "user_config": {"max_batch_size": 3, "batch_wait_timeout_s": 0.005}} if d["name"] == "Detector" else d
        for d in config["deployments"]]
    deploy_config(config)
    assert detector.batch_config.remote().result(timeout_s=30) == {"max_batch_size": 3, "batch_wait_timeout_s": 0.005}
    app = _get_global_client().get_serve_details()["applications"]["lfr"]
    after = {r["replica_id"] for r in app["deployments"]["Detector"]["replicas"] if r["state"] == "RUNNING"}
    assert before & after  # updated in place (autoscaling may add or drop a replica meanwhile; a redeploy replaces all)


def test_every_view_of_an_alert_list_or_face_image_is_logged_with_its_reason(streamed, serve_url, live, services, people):
    """DPA 2018 s.62: who consulted what, when and why; a view without a reason is refused."""
    op = people["operator"]
    dep = live["deployment"]["id"]
    alerts_url = f"{serve_url}/v1/deployments/{dep}/alerts"
    row = httpx.get(alerts_url, params=WHY, headers=op, timeout=10).json()[0]
    for url in (alerts_url, serve_url + row["probe_crop_url"], serve_url + row["watchlist_image_url"]):
        assert httpx.get(url, headers=op, timeout=10).status_code == 422  # no reason, no data
        assert httpx.get(url, params={"reason": "   "}, headers=op, timeout=10).status_code == 422
    with connect(services) as conn:
        before = conn.execute("SELECT max(seq) AS s FROM audit_log").fetchone()["s"]
    views = [serve_url + row["probe_crop_url"], serve_url + row["watchlist_image_url"], alerts_url] * 2
    reasons = [f"view {i}: checking the match before engaging" for i in range(len(views))]
    for url, reason in zip(views, reasons):
        assert httpx.get(url, params={"reason": reason}, headers=op, timeout=10).status_code == 200
    with connect(services) as conn:
        logged = conn.execute("SELECT actor, role, action, object_id, details FROM audit_log WHERE seq > %s"
                              " AND action LIKE 'consulted.%%' ORDER BY seq", (before,)).fetchall()
    assert [r["details"]["reason"] for r in logged] == reasons  # N views, N rows, each with its reason
    assert {r["actor"] for r in logged} == {"olly.operator"} and {r["role"] for r in logged} == {"operator"}
    assert [r["action"] for r in logged[:3]] == ["consulted.probe_crop", "consulted.watchlist_image",
                                                 "consulted.alert_list"]
    assert logged[0]["object_id"] == row["id"] and logged[2]["object_id"] == str(dep)


def test_an_outage_behind_the_ingress_answers_503_with_retry_after(streamed, serve_url, live, services, people):
    """The object store down: the alert's images answer 503 naming it (not 500), and once it is back the
    same crop is served again. PostgreSQL down: the alert list answers 503 naming it."""
    from lfr_ops.local_stack.postgres import EmbeddedPostgres
    from lfr_ops.local_stack.s3server import EmbeddedS3

    op = people["operator"]
    alerts_url = f"{serve_url}/v1/deployments/{live['deployment']['id']}/alerts"
    probe_url = serve_url + httpx.get(alerts_url, params=WHY, headers=op, timeout=10).json()[0]["probe_crop_url"]
    crop = httpx.get(probe_url, params=WHY, headers=op, timeout=10).content
    def while_stopped(server, url: str) -> httpx.Response:
        assert server.stop()
        try:
            return httpx.get(url, params=WHY, headers=op, timeout=30)
        finally:
            assert server.start()

    down = while_stopped(EmbeddedS3.from_settings(services), probe_url)
    assert down.status_code == 503 and down.headers["retry-after"] and "object store" in down.json()["detail"]
    assert httpx.get(probe_url, params=WHY, headers=op, timeout=30).content == crop
    down = while_stopped(EmbeddedPostgres.from_settings(services), alerts_url)
    assert down.status_code == 503 and down.headers["retry-after"] and "PostgreSQL" in down.json()["detail"]
    assert httpx.get(alerts_url, params=WHY, headers=op, timeout=30).status_code == 200


def test_the_api_keeps_its_contract(streamed, serve_url, live, tmp_path, people):
    """schemathesis with every check (server errors, status codes, content types, response schemas and
    headers, positive and negative data, missing headers, ignored auth, unsupported methods) against the
    running ingress, with the live deployment's camera key, its operator's token and its adjudicated alert. Last in the module:
    it posts frames and decisions of its own."""
    import os
    import subprocess
    import sys

    alert = httpx.get(f"{serve_url}/v1/deployments/{live['deployment']['id']}/alerts", params=WHY,
                      headers=people["operator"], timeout=10).json()[0]
    env = {**os.environ, "LFR_CONTRACT_CAMERA_KEY": live["keys"]["camera"],
           "LFR_CONTRACT_OPERATOR_TOKEN": people["operator"]["Authorization"].split()[1],
           "LFR_CONTRACT_DEPLOYMENT": str(live["deployment"]["id"]), "LFR_CONTRACT_ALERT": alert["id"]}
    config = Path(__file__).with_name("schemathesis.toml")
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run",
         f"{serve_url}/openapi.json", "--report", "junit", "--report-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache goes to tmp_path
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    report = next(tmp_path.glob("junit*.xml")).read_text()
    assert 'failures="0"' in report and 'errors="0"' in report, summary
    assert "/v1/deployments/{deployment_id}/frames" in report  # the operations really ran
