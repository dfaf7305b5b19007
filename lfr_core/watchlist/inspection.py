"""The authoriser sees and tests what they seal (issue 27 item 6): a page of a version's accepted faces (the face
cropped from the custody image, never the whole photograph) and a probe test of images against its templates,
with each probe face's top candidates, their scores against the list's threshold and the projected false-alert
rate at the list's size.

Both are consultations of personal data: the database lets only an authoriser assigned to the version's
deployment make them and records each with its reason before it answers
(lfr_core/db/policy/45_watchlist_inspection.sql). A probe image and its embeddings live in this process's memory
only: nothing is written to disk, the database, the object store or a log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import psycopg

from lfr_core.config import Settings
from lfr_core.errors import Forbidden, InvalidInput, NotFound, Refused
from lfr_core.evaluation.impostor import FACES
from lfr_core.identity.consultations import checked_reason
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.vision.engine import FaceEngine
from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import decode_image
from lfr_core.watchlist import queries
from lfr_core.watchlist.model import FaceRow

CROP_MARGIN = 0.25  # as the console's probe crop (lfr_core/live/pipeline.py), so both faces are framed alike
PER_PAGE = 24
CANDIDATES = 5


@dataclass(frozen=True)
class FaceTile:
    entry_id: int
    subject_ref: str
    image_index: int
    category: str
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True)
class FacesPage:
    version_id: str
    page: int
    per_page: int
    total: int
    faces: list[FaceTile]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Candidate:
    subject_ref: str
    image_index: int
    category: str
    score: float
    would_alert: bool  # at or above the list's threshold


@dataclass(frozen=True)
class ProbeFace:
    box: tuple[float, float, float, float]
    searched: bool  # passed the live quality gate, so the matcher would have searched it
    note: str
    candidates: list[Candidate]


@dataclass(frozen=True)
class ProbeResult:
    version_id: str
    threshold: float
    list_size: int
    false_alerts_per_10k: float | None  # projected at the list's size (lfr_core/evaluation/impostor.py)
    false_alerts_per_10k_upper: float | None
    evidence_note: str
    faces: list[ProbeFace]

    def to_json(self) -> dict[str, Any]:
        return {"version_id": self.version_id, "threshold": self.threshold, "list_size": self.list_size,
                "false_alerts_per_10k_faces": self.false_alerts_per_10k,
                "false_alerts_per_10k_faces_upper": self.false_alerts_per_10k_upper,
                "evidence_note": self.evidence_note,
                "faces": [{"box": list(f.box), "searched": f.searched, "note": f.note,
                           "candidates": [c.__dict__ for c in f.candidates]} for f in self.faces]}


@contextmanager
def _consulting(conn: psycopg.Connection, actor: Actor) -> Iterator[None]:
    """The database's answers in the error kinds: its refusal here is always about who may look."""
    try:
        with acting(conn, actor):
            yield
    except psycopg.errors.NoDataFound as e:
        raise NotFound(e.diag.message_primary or str(e)) from e
    except psycopg.errors.InvalidParameterValue as e:
        raise InvalidInput(e.diag.message_primary or str(e)) from e
    except Refused as e:
        raise Forbidden(str(e)) from e


def _version(conn: psycopg.Connection, version_id: str) -> dict[str, Any]:
    version = queries.find_version(conn, version_id)
    if version is None:
        raise NotFound(f"no watchlist version {version_id}")
    if version["state"] in ("purging", "purged"):
        raise Refused(f"watchlist version {version_id} is {version['state']}: its faces are gone")
    return dict(version)


def face_crop(data: bytes, quality: dict[str, Any] | None) -> bytes | None:
    """The enrolled face with a margin, as JPEG; None without a recorded box (the whole photograph is never shown)."""
    keys = ("box_x1", "box_y1", "box_x2", "box_y2")
    if not quality or any(quality.get(k) is None for k in keys):
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (float(quality[k]) for k in keys)
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    left, top, right, bottom = int(max(0, x1 - mx)), int(max(0, y1 - my)), int(min(w, x2 + mx)), int(min(h, y2 + my))
    if right <= left or bottom <= top:
        return None
    ok, buf = cv2.imencode(".jpg", image[top:bottom, left:right], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return buf.tobytes() if ok else None


def faces(conn: psycopg.Connection, store: ObjectStore, actor: Actor, version_id: str, *, reason: str,
          page: int = 1, per_page: int = PER_PAGE) -> FacesPage:
    """One page of the version's accepted faces, recorded as the actor's consultation with `reason`."""
    reason = checked_reason(reason)
    version = _version(conn, version_id)
    with _consulting(conn, actor):
        rows: list[FaceRow] = queries.consulted_faces(conn, version["id"], page, per_page, reason)
    tiles = []
    for row in rows:
        crop = face_crop(store.get_uri(row.image_uri), row.quality) if row.image_uri else None
        if crop is not None:
            tiles.append(FaceTile(row.entry_id, row.subject_ref, row.image_index, row.category, crop))
    return FacesPage(str(version["id"]), page, per_page, int(version["entries_accepted"]), tiles)


def _vector_text(embedding: np.ndarray) -> str:
    return "[" + ",".join(f"{float(x):.8g}" for x in np.asarray(embedding, np.float32).ravel()) + "]"


def probe(conn: psycopg.Connection, engine: FaceEngine, settings: Settings, actor: Actor, version_id: str,
          image: bytes, *, reason: str, k: int = CANDIDATES) -> ProbeResult:
    """Every face of `image` searched against the version as the live matcher would (its quality gate, cosine
    similarity, the list's threshold), recorded as the actor's consultation with `reason`; the image, its faces
    and their embeddings stay in memory."""
    reason = checked_reason(reason)
    version = _version(conn, version_id)
    try:
        decoded = decode_image(image, max_pixels=settings.vision.max_image_pixels,
                               max_bytes=settings.vision.max_image_bytes)
    except ImageError as e:
        raise InvalidInput(f"the probe is not a usable image ({e.reason}): {e}") from e
    found = engine.analyse_batch([decoded], purpose="live")[0]
    searched = [f for f in found if f.embedding is not None]
    with _consulting(conn, actor):
        hits = queries.consulted_probe(conn, version["id"], [_vector_text(f.embedding) for f in searched
                                                              if f.embedding is not None], k, reason)
    threshold = float(version["threshold"])
    by_probe: dict[int, list[Candidate]] = {}
    for hit in hits:
        by_probe.setdefault(hit.probe, []).append(Candidate(hit.subject_ref, hit.image_index, hit.category,
                                                            round(hit.score, 4), hit.score >= threshold))
    out, n = [], 0
    for face in found:
        x1, y1, x2, y2 = (float(v) for v in face.detection.box)
        box = (x1, y1, x2, y2)
        if face.embedding is None:
            out.append(ProbeFace(box, False, "not searched: " + "; ".join(face.quality.reasons), []))
            continue
        n += 1
        candidates = by_probe.get(n, [])
        alerts = [c for c in candidates if c.would_alert]
        note = f"would alert on {alerts[0].subject_ref}" if alerts else "no candidate reaches the threshold"
        out.append(ProbeFace(box, True, note, candidates))
    evidence = version.get("evidence") or {}
    return ProbeResult(str(version["id"]), threshold, int(version["entries_accepted"]),
                       evidence.get("false_alerts_per_10k"), evidence.get("false_alerts_per_10k_upper"),
                       evidence.get("note") or "", out)


def projected_line(result: ProbeResult) -> str:
    """The false-alert projection in one line, as the approval body states it."""
    if result.false_alerts_per_10k_upper is None:
        return (f"projected false alerts at {result.list_size} templates: unknown"
                + (f" ({result.evidence_note})" if result.evidence_note else ""))
    return (f"projected false alerts at {result.list_size} templates: {result.false_alerts_per_10k:.3g} per "
            f"{FACES:,} faces (95% upper bound {result.false_alerts_per_10k_upper:.3g})")
