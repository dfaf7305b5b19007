"""Run a 1:N evaluation of the face engine on a labelled manifest.

Protocol
--------
* Identities are grouped from the manifest. Per dataset, a seeded share (`holdout_share`) of identities
  is held out: they are not enrolled and all their images become non-mated searches.
* Every other identity enrols its first image that yields a face passing the enrolment quality gate
  (largest face). Images that fail are listed in `failures_to_enrol` with reasons and are then
  searched like the rest; an identity that never enrols still has its searches counted as mated
  (and missed), as NIST counts failures to enrol against FNIR.
* All remaining images are searched with the live gate (largest face that passes). A search without
  a template counts as a miss (score -inf).
* An image that cannot be read is a failure to enrol or a missed search. When no search image could be read
  the evaluation stops (ManifestError) instead of reporting rates over nothing; above 5% unreadable it warns.
* Metrics follow `lfr_core.evaluation.metrics` (rank-1, FPIR, FNIR, TPIR at FPIR 0.1/0.01/0.001).
  With n non-mated searches, FPIR below 1/n cannot be resolved: such levels are listed under
  `insufficient_nonmated` and `lowest_achievable_fpir` is reported.

Scaling model for the deployment projection
-------------------------------------------
The measured FPIR(t) comes from a gallery of N_g enrolled people. Treating the comparisons of one
search as independent with a per-comparison false match rate p, FPIR(t) = 1 - (1-p)^N_g ≈ N_g * p,
so p ≈ FPIR_measured(t) / N_g. For a watchlist of N people, FPIR(N) = 1 - (1 - p)^N, and over F faces
seen the expected number of false alerts is F * FPIR(N). This is a first-order model: it ignores
score correlation between comparisons (lookalikes, demographic clustering), the track-level vote
that the live matcher applies, and the small-sample error of FPIR_measured; t is the threshold
calibrated for `target_fpir` on this manifest's non-mated searches.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfr_core.config import Settings, get_settings
from lfr_core.errors import InvalidInput
from lfr_core.evaluation.conditions import (
    AS_PHOTOGRAPHED,
    NO_FACE_AS_PHOTOGRAPHED,
    Outcome,
    refusal_reasons,
    render,
)
from lfr_core.evaluation.conditions import curve as condition_curve
from lfr_core.evaluation.groups import Enrolment, Search, per_group
from lfr_core.evaluation.impostor import impostor_tail
from lfr_core.evaluation.manifest import ManifestError, ManifestRow, load_manifest
from lfr_core.evaluation.metrics import det_curve, fnir, fpir, project_false_alerts, summarise
from lfr_core.evaluation.model import Condition
from lfr_core.evaluation.tracks import track_fusion
from lfr_core.matching.fusion import centroids
from lfr_core.vision.engine import FaceEngine, build_engine, largest_face
from lfr_core.vision.errors import ImageError
from lfr_core.vision.images import load_image
from lfr_core.vision.types import Face

FPIR_LEVELS = (0.1, 0.01, 0.001)
IMPOSTOR_REPORTED = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)  # the tail's thresholds the JSON shows (all are recorded)


def split_identities(ids_by_dataset: dict[str, list[str]], share: float, seed: int) -> set[str]:
    """Seeded, per-dataset choice of identities held out as non-mated (at least one where a dataset has 2+)."""
    rng = np.random.default_rng(seed)
    held: set[str] = set()
    for ds in sorted(ids_by_dataset):
        ids = sorted(ids_by_dataset[ds])
        k = int(round(share * len(ids)))
        if share > 0 and k == 0 and len(ids) >= 2:
            k = 1
        k = min(k, len(ids) - 1) if len(ids) > 1 else 0
        if k:
            held.update(ids[i] for i in rng.permutation(len(ids))[:k])
    return held


def _best_face(faces: list[Face]) -> Face | None:
    usable = [f for f in faces if f.embedding is not None]
    if not usable:
        return None
    return max(usable, key=lambda f: float((f.detection.box[2] - f.detection.box[0]) * (f.detection.box[3] - f.detection.box[1])))


UNREADABLE = "unreadable image"
# Above this share of unreadable images the rates are mostly about the manifest, not the engine: say so first.
UNREADABLE_WARN_SHARE = 0.05


@dataclass(frozen=True)
class _Seen:
    """What the engine made of one image: the face searched with (it passed the gate and has an embedding), else
    why there is none; and the box of that face, or of the largest face found when none passed."""

    face: Face | None
    why: str | None
    box: np.ndarray | None


def _analyse(engine: FaceEngine, rows: list[ManifestRow], purpose: str, settings: Settings, batch: int,
             progress: Callable[[int], None] | None,
             render: Callable[[int, np.ndarray], np.ndarray] | None = None) -> list[_Seen]:
    """Each row's image through the engine; `render(k, image)` first turns row k's image into what the engine
    is shown (a camera's view, lfr_core/evaluation/conditions.py)."""
    out: list[_Seen] = []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        images, idx = [], []
        results = [_Seen(None, None, None)] * len(chunk)
        for i, r in enumerate(chunk):
            try:
                image = load_image(r.path, max_pixels=settings.vision.max_image_pixels,
                                   max_bytes=settings.vision.max_image_bytes)
            except (ImageError, OSError) as e:
                results[i] = _Seen(None, f"{UNREADABLE}: {e}", None)
                continue
            images.append(render(start + i, image) if render else image)
            idx.append(i)
        for i, faces in zip(idx, engine.analyse_batch(images, purpose=purpose) if images else []):
            best = _best_face(faces)
            if best is not None:
                results[i] = _Seen(best, None, best.detection.box)
            elif not faces:
                results[i] = _Seen(None, "no face found", None)
            else:
                reasons = sorted({r for f in faces for r in f.quality.reasons})
                largest = largest_face(faces)
                results[i] = _Seen(None, "; ".join(reasons) or "quality gate failed",
                                   largest.detection.box if largest else None)
        out.extend(results)
        if progress:
            progress(len(chunk))
    return out


def _readable(manifest: str | Path, rows: list[ManifestRow], unreadable: dict[str, str], probes: int,
              probes_unreadable: int) -> list[str]:
    """Warnings about images that could not be read; raises when no search could be read at all, as rates over
    nothing but unreadable files would read as a measurement (rank-1 0, FNIR 1)."""
    if not unreadable:
        return []
    rel, why = next(iter(unreadable.items()))
    example = f"e.g. {rel}: {why.removeprefix(UNREADABLE + ': ')}"
    if probes and probes_unreadable == probes:
        raise ManifestError(
            f"no image of manifest {manifest} could be searched: {probes_unreadable} of {probes} search images "
            f"(and {len(unreadable)} of {len(rows)} images in all) could not be read, {example}; paths are read "
            f"relative to the manifest's folder ({Path(manifest).parent}): correct them or move the manifest")
    if len(unreadable) > UNREADABLE_WARN_SHARE * len(rows):
        return [f"{len(unreadable)} of {len(rows)} images of manifest {manifest} ({len(unreadable) / len(rows):.0%}) "
                f"could not be read, {example}; the rates below count them as failures to enrol and missed "
                f"searches: correct the paths or drop those rows"]
    return []


def _column(row: ManifestRow, column: str) -> str:
    return row.columns.get(column) or "-"


def run_evaluation(manifest: str | Path, *, settings: Settings | None = None, engine: FaceEngine | None = None,
                   holdout_share: float = 0.2, seed: int = 0, watchlist_size: int | None = None,
                   faces_seen: int = 10_000, target_fpir: float = 0.01, batch_size: int = 16,
                   group_by: str = "dataset", threshold: float | None = None, enrol_images: int = 1,
                   track_length: int = 3, fusion: str = "centroid", conditions: Sequence[Condition] = (),
                   progress: Callable[[int], None] | None = None) -> dict:
    """Evaluate and return a JSON-ready dict; keys starting with "_" hold arrays (the DET curve for plotting,
    the non-mated top scores and the scored searches for `calibration.record`) and are dropped before dumping.

    `group_by` names the manifest column whose values form the groups of `per_group`, measured at one
    threshold: `threshold` when given, else the one calibrated for `target_fpir` on all non-mated searches.
    `enrol_images` templates (at most) are enrolled per identity; a search scores each identity by the centroid
    of its templates (`fusion="centroid"`, what the live matcher does, see `lfr_core.matching.fusion`) or by
    its best template (`fusion="best"`). `track_length` images of one identity form one probe sequence for
    `track_fusion`. With `conditions`, every probe is searched again as a camera would show it under each, and
    "conditions" holds the `ConditionCurve` at the same operating threshold (lfr_core/evaluation/conditions.py);
    else None."""
    if not 0.0 <= holdout_share < 1.0:
        raise InvalidInput("holdout_share must be in [0, 1)")
    if enrol_images < 1:
        raise InvalidInput("enrol_images must be at least 1")
    if fusion not in ("centroid", "best"):
        raise InvalidInput(f"fusion must be 'centroid' or 'best', not {fusion!r}")
    s = settings or get_settings()
    eng = engine or build_engine(s)
    rows = load_manifest(manifest)
    if group_by not in rows[0].columns:
        raise ManifestError(f"--group-by {group_by!r} is not a column of {manifest} "
                            f"(columns: {', '.join(rows[0].columns)})")
    by_id: OrderedDict[str, list[ManifestRow]] = OrderedDict()
    for r in rows:
        by_id.setdefault(r.identity, []).append(r)
    dataset_of = {i: rs[0].dataset for i, rs in by_id.items()}
    group_of = {i: _column(rs[0], group_by) for i, rs in by_id.items()}
    ids_by_ds: dict[str, list[str]] = {}
    for i, ds in dataset_of.items():
        ids_by_ds.setdefault(ds, []).append(i)
    held = split_identities(ids_by_ds, holdout_share, seed)

    # Enrolment: the first `enrol_images` images per identity that pass, trying the next image after a failure.
    template_owner: list[str] = []
    gallery: list[np.ndarray] = []
    fte: list[dict] = []
    enrolled_rows: set[str] = set()
    wanted = {i: enrol_images for i in by_id if i not in held}
    enrol_attempts: dict[str, int] = {}  # images put to the enrolment gate, per group
    pending = {i: list(rs) for i, rs in by_id.items() if i not in held}
    while pending:
        heads = [(i, rs.pop(0)) for i, rs in pending.items() if rs]
        if not heads:
            break
        results = _analyse(eng, [r for _, r in heads], "enrol", s, batch_size, progress)
        for ident, _ in heads:
            enrol_attempts[group_of[ident]] = enrol_attempts.get(group_of[ident], 0) + 1
        for (ident, r), seen in zip(heads, results):
            face, why = seen.face, seen.why
            if face is not None:
                template_owner.append(ident)
                gallery.append(face.embedding)
                enrolled_rows.add(r.rel)
                wanted[ident] -= 1
            else:
                fte.append({"path": r.rel, "identity": ident, "dataset": r.dataset, "group": group_of[ident],
                            "reasons": why})
        pending = {i: rs for i, rs in pending.items() if rs and wanted[i] > 0}
    gallery_ids = list(dict.fromkeys(template_owner))

    probes = [r for r in rows if r.rel not in enrolled_rows]
    analysed = _analyse(eng, probes, "live", s, batch_size, progress)
    unreadable = {f["path"]: f["reasons"] for f in fte if str(f["reasons"]).startswith(UNREADABLE)}
    probes_unreadable = 0
    for r, seen in zip(probes, analysed):
        if seen.why is not None and seen.why.startswith(UNREADABLE):
            unreadable.setdefault(r.rel, seen.why)
            probes_unreadable += 1
    warnings = _readable(manifest, rows, unreadable, len(probes), probes_unreadable)
    dim = eng.embedder.identity.embedding_dim or (gallery[0].shape[0] if gallery else 0)
    G = np.stack(gallery) if gallery else np.zeros((0, dim), np.float32)
    index_of = {ident: k for k, ident in enumerate(gallery_ids)}
    owner = np.array([index_of[i] for i in template_owner], dtype=np.int64)

    subject_centroids = centroids(G, owner, len(gallery_ids))

    def identity_scores(embedding: np.ndarray) -> np.ndarray:
        """Each enrolled identity's score: against its centroid (as the live matcher), or its best template."""
        if fusion == "centroid":
            return subject_centroids @ embedding
        best = np.full(len(gallery_ids), -np.inf)
        np.maximum.at(best, owner, G @ embedding)
        return best

    def search(r: ManifestRow, face: Face | None) -> tuple[Search, np.ndarray | None]:
        """The probe's search as scored (a miss without a face or a gallery), and each identity's score."""
        mated = r.identity not in held
        if face is None or G.shape[0] == 0:
            return Search(r.identity, group_of[r.identity], mated, -math.inf, False), None
        per_identity = identity_scores(face.embedding)
        k = index_of.get(r.identity)
        if not mated:
            score, is_top = float(per_identity.max()), False
        elif k is None:  # identity failed to enrol: the search cannot succeed
            score, is_top = -math.inf, False
        else:
            others = np.delete(per_identity, k)
            score, is_top = float(per_identity[k]), bool(others.size == 0 or per_identity[k] > others.max())
        return Search(r.identity, group_of[r.identity], mated, score, is_top), per_identity

    recs = []  # (dataset, mated, score, is_top)
    searches: list[Search] = []
    probe_scores: list[np.ndarray | None] = []  # per probe: each identity's score, for track fusion
    probe_failures = []
    for r, seen in zip(probes, analysed):
        if seen.face is None or G.shape[0] == 0:
            probe_failures.append({"path": r.rel, "identity": r.identity, "reasons": seen.why or "empty gallery"})
        found, per_identity = search(r, seen.face)
        recs.append((r.dataset, found.mated, found.score, found.is_top))
        searches.append(found)
        probe_scores.append(per_identity)

    def block(sel: list) -> dict:
        nm = np.array([x[2] for x in sel if not x[1]], dtype=np.float64)
        ms = np.array([x[2] for x in sel if x[1]], dtype=np.float64)
        mt = np.array([x[3] for x in sel if x[1]], dtype=bool)
        return summarise(nm, ms, mt, FPIR_LEVELS), (nm, ms, mt)

    overall, (nm, ms, mt) = block(recs)
    per_ds = {}
    for ds in sorted({x[0] for x in recs}):
        per_ds[ds], _ = block([x for x in recs if x[0] == ds])
        per_ds[ds]["failures_to_enrol"] = sum(1 for f in fte if f["dataset"] == ds)

    from lfr_core.evaluation.metrics import threshold_at_fpir

    t_target, ok = threshold_at_fpir(nm, target_fpir)
    fpir_t = fpir(nm, t_target) if nm.size else float("nan")
    n_wl = watchlist_size if watchlist_size is not None else len(gallery_ids)
    projection = project_false_alerts(0.0 if math.isnan(fpir_t) else fpir_t, len(gallery_ids), int(nm.size), n_wl,
                                      faces_seen)
    projection["threshold"] = t_target if math.isfinite(t_target) else None
    operating = threshold if threshold is not None else t_target
    enrolments = [Enrolment(i, group_of[i], i in index_of) for i in by_id if i not in held]
    threshold_source = ("given" if threshold is not None else
                        f"calibrated for FPIR {target_fpir:g} on all non-mated searches")
    curve = None
    if conditions:
        if G.shape[0] == 0:
            raise InvalidInput(f"--conditions: no identity of {manifest} could be enrolled, so nothing can be searched")
        measured: list[tuple[Condition, list[Outcome]]] = [
            (AS_PHOTOGRAPHED, [Outcome(found, refusal_reasons(seen.why), _width(seen.box))
                               for found, seen in zip(searches, analysed)])]
        for c in conditions:
            seen_under = _under_condition(eng, probes, analysed, c, s, batch_size, progress)
            measured.append((c, [Outcome(search(r, seen.face)[0], refusal_reasons(seen.why), _width(seen.box))
                                 for r, seen in zip(probes, seen_under)]))
        assert eng.embedder is not None  # analyse_batch refuses an engine without one
        curve = condition_curve(measured, enrolments, embedder=eng.embedder.identity, detector=eng.detector.identity,
                                manifest=str(manifest), seed=seed, target_fpir=target_fpir, operating=operating,
                                threshold_source=threshold_source, group_by=group_by)
    ts, fp, fn = det_curve(nm, ms, mt)
    # Every image with a template, enrolled or searched, against every image of another identity: the
    # per-comparison tail that a list's size needs (lfr_core/evaluation/impostor.py).
    probe_faces = [(r.identity, seen.face.embedding) for r, seen in zip(probes, analysed) if seen.face is not None]
    tail = impostor_tail(np.concatenate([G, np.stack([e for _, e in probe_faces]).astype(G.dtype)])
                         if probe_faces else G, template_owner + [i for i, _ in probe_faces])
    result = {
        "manifest": str(manifest),
        "warnings": warnings,
        "unreadable_images": len(unreadable),
        "model": eng.identity,
        "protocol": {"holdout_share": holdout_share, "seed": seed, "held_out_identities": len(held),
                     "enrolled": len(gallery_ids), "identities": len(by_id), "images": len(rows),
                     "enrol_images": enrol_images, "templates": len(template_owner), "fusion": fusion},
        **overall,
        "calibrated": {"target_fpir": target_fpir, "threshold": t_target if math.isfinite(t_target) else None,
                       "fpir_measured": fpir_t, "fnir": fnir(ms, mt, t_target) if ms.size else None,
                       "sufficient_nonmated": ok},
        "failures_to_enrol": {"count": len(fte), "items": fte},
        "probe_failures": {"count": len(probe_failures), "items": probe_failures},
        "per_dataset": per_ds,
        "per_group": {"group_by": group_by, "operating_threshold_source": threshold_source,
                      **per_group(searches, enrolments, operating, seed=seed)},
        "enrolment_quality_by_group": quality_by_group(fte, enrolments, enrol_attempts),
        "track_fusion": track_fusion(probes, probe_scores, held, index_of, operating, track_length),
        "projection": projection,
        "impostor": {"pairs": tail.pairs, "resolvable_rate": tail.resolvable,
                     "tail": [{"threshold": p.threshold, "exceed": p.exceed, "rate": p.rate, "upper": p.upper}
                              for p in tail.points if p.threshold in IMPOSTOR_REPORTED]},
        "conditions": curve,
        "_det": {"fpir": fp, "fnir": fn, "thresholds": ts},
        "_det_by_group": {g: det_curve(*_group_arrays(searches, g)) for g in sorted({x.group for x in searches})},
        "_nonmated_top": nm,
        "_searches": searches,
        "_enrolments": enrolments,
        "_impostor_tail": tail,
    }
    return result


def _width(box: np.ndarray | None) -> float | None:
    return None if box is None else float(box[2] - box[0])


def _under_condition(engine: FaceEngine, probes: list[ManifestRow], as_photographed: list[_Seen],
                     condition: Condition, settings: Settings, batch: int,
                     progress: Callable[[int], None] | None) -> list[_Seen]:
    """Each probe searched as a camera shows it under `condition`, rescaled by the face box found as photographed;
    a probe without one stays unread or faceless."""
    framed = [k for k, seen in enumerate(as_photographed) if seen.box is not None]
    seen_framed = _analyse(engine, [probes[k] for k in framed], "live", settings, batch, progress,
                           render=lambda j, image: render(image, as_photographed[framed[j]].box, condition))
    out = [seen if seen.why and seen.why.startswith(UNREADABLE) else _Seen(None, NO_FACE_AS_PHOTOGRAPHED, None)
           for seen in as_photographed]
    for k, seen in zip(framed, seen_framed):
        out[k] = seen
    return out


def _group_arrays(searches: list[Search], group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sel = [x for x in searches if x.group == group]
    return (np.array([x.score for x in sel if not x.mated], np.float64),
            np.array([x.score for x in sel if x.mated], np.float64),
            np.array([x.is_top for x in sel if x.mated], bool))


def quality_by_group(fte: list[dict], enrolments: list[Enrolment], attempts: dict[str, int]) -> dict:
    """The enrolment gate per group: images it saw and rejected, the rejection rate, and each reason's count."""
    out = {g: {"identities": 0, "images_attempted": n, "rejected_images": 0, "rejection_rate": 0.0, "reasons": {}}
           for g, n in attempts.items()}
    for e in enrolments:
        out[e.group]["identities"] += 1
    for f in fte:
        entry = out[f["group"]]
        entry["rejected_images"] += 1
        entry["rejection_rate"] = entry["rejected_images"] / entry["images_attempted"]
        for reason in str(f["reasons"]).split("; "):
            kind = reason.split(":")[0]
            entry["reasons"][kind] = entry["reasons"].get(kind, 0) + 1
    return out
