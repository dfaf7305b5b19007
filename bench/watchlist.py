"""Watchlist speed: build throughput, purge of a 10k-entry version, pgvector top-1 at 100k entries.

Each figure is printed beside a baseline measured in the same run:
- build: the batched build (`watchlist.build_batch`) against the same build one image at a time;
- purge: the purge (one DELETE, batched S3 deletes) against row-by-row / object-by-object deletion;
- search: HNSW (pgvector) against an exact sequential scan in PostgreSQL, recall@1 against numpy exact search.
Clustered synthetic vectors are used at 100k: on pure noise every neighbour is equally far and HNSW recall
collapses, which says nothing about faces. Runs its own services under a temporary LFR_HOME, one core.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup_env() -> Path:
    from lfr_ops.bench_env import private_service_env

    home = Path(tempfile.mkdtemp(prefix="lfr-bench-"))
    os.environ.update(private_service_env(home))
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    return home


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def bench_build(conn, store, settings, n_identities: int) -> dict:
    from lfr_core.identity.model import SYSTEM
    from lfr_core.vision.engine import build_engine
    from lfr_core.watchlist.build import build_version
    from lfr_ops.bench_env import make_deployment
    from lfr_ops.demo.data import labelled_faces, stage_custody_manifest

    faces = labelled_faces(settings, ("deepface", "ageitgey", "orl", "yale", "johns", "celeb5"))
    rows = [{"subject_ref": f"B-{name}", "category": "wanted_suspect", "rationale": "bench", "provenance": "bench",
             "capture_date": "", "path": str(images[0].path)} for name, images in list(faces.items())[:n_identities]]
    engine = build_engine(settings)
    results = {}
    for label, batch in (("one at a time", 1), ("batched", settings.watchlist.build_batch)):
        settings.watchlist.build_batch = batch
        deployment = make_deployment(conn, settings)
        # one staging folder per deployment: the first deployment to build from a folder owns it
        manifest = stage_custody_manifest(store, settings, rows, f"bench-{uuid.uuid4().hex[:8]}")
        start = time.perf_counter()
        version = build_version(conn, store, engine, settings, deployment_id=str(deployment["id"]),
                                manifest_uri=manifest, actor=SYSTEM)
        elapsed = time.perf_counter() - start
        results[label] = {"images": len(rows), "accepted": version["entries_accepted"], "s": elapsed,
                          "images_per_s": len(rows) / elapsed}
    return results


def synthetic_version(conn, store, settings, n: int, dim: int, vectors: np.ndarray | None, *, copies: bool):
    """A version with n entries and embeddings (and n copied image objects), inserted in bulk."""
    from lfr_core.watchlist.build import copies_prefix
    from lfr_ops.bench_env import make_deployment

    deployment = make_deployment(conn, settings)
    version_id = uuid.uuid4()
    with conn.transaction():
        conn.execute(
            """INSERT INTO watchlist_versions (id, deployment_id, version, built_by, manifest_uri, manifest_sha256,
                 detector, embedder, embedder_sha256, embedding_dim, threshold, entries_total, entries_accepted,
                 entries_rejected, state)
               VALUES (%s, %s, 1, 'bench', 'synthetic', 'x', '{}', '{}', 'synthetic', %s, 0.4, %s, %s, 0, 'draft')""",
            (version_id, deployment["id"], dim, n, n))
        ids = [r["id"] for r in conn.execute(
            """INSERT INTO watchlist_entries (version_id, subject_ref, category, rationale, provenance, source_uri,
                                              status, image_uri, image_sha256)
               SELECT %s, 'S-' || i, 'wanted_suspect', 'bench', 'bench', 'synthetic', 'accepted',
                      %s || lpad(i::text, 5, '0') || '.jpg', md5(i::text)
               FROM generate_series(1, %s) AS i ORDER BY i RETURNING id""",
            (version_id, f"s3://{settings.s3.bucket_images}/{copies_prefix(version_id)}", n)).fetchall()]
        vectors = vectors if vectors is not None else np.random.default_rng(1).normal(size=(n, dim)).astype(np.float32)
        with conn.cursor().copy(
            "COPY watchlist_embeddings (entry_id, version_id, embedding_dim, embedding) FROM STDIN"
        ) as copy:
            for entry_id, vec in zip(ids, vectors):
                copy.write_row((entry_id, version_id, dim, "[" + ",".join(f"{x:.6f}" for x in vec) + "]"))
        # the version stays a draft: a draft may be purged (lfr_core/db/migrations/0013_state_transitions.sql)
    if copies:
        prefix = copies_prefix(version_id)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: store.put_bytes(settings.s3.bucket_images, f"{prefix}{i:05d}.jpg", b"x" * 64),
                          range(1, n + 1)))
    return version_id, ids


def bench_purge(conn, store, settings, n: int, naive_n: int) -> dict:
    from lfr_core.watchlist.build import copies_prefix
    from lfr_core.workflow.purge import purge
    from lfr_ops.bench_env import ADMIN

    version_id, _ = synthetic_version(conn, store, settings, n, 128, None, copies=True)
    start = time.perf_counter()
    receipt = purge(conn, store, settings, str(version_id), ADMIN, reason="bench")
    purge_s = time.perf_counter() - start
    assert receipt["verified"]["embeddings_remaining"] == 0 and receipt["deleted"]["image_objects"] == n

    naive_id, naive_ids = synthetic_version(conn, store, settings, naive_n, 128, None, copies=True)
    start = time.perf_counter()
    with conn.transaction():
        for entry_id in naive_ids:
            conn.execute("DELETE FROM watchlist_embeddings WHERE entry_id = %s", (entry_id,))
    for i in range(1, naive_n + 1):
        store.client.remove_object(settings.s3.bucket_images, f"{copies_prefix(naive_id)}{i:05d}.jpg")
    naive_s = (time.perf_counter() - start) * n / naive_n
    return {"entries": n, "purge_s": purge_s, "naive_s_extrapolated": naive_s, "naive_measured_on": naive_n}


def clustered(n: int, dim: int, clusters: int, rng: np.random.Generator, spread: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, clusters, size=n)
    points = centres[labels] + spread * rng.normal(size=(n, dim)).astype(np.float32) / np.sqrt(dim)
    return points / np.linalg.norm(points, axis=1, keepdims=True), centres


def bench_search(conn, store, settings, n: int, queries: int) -> dict:
    import psycopg

    from lfr_core.db.connection import admin_dsn
    from lfr_core.watchlist.vector_index import ensure_hnsw_index, search

    dim = 128
    rng = np.random.default_rng(7)
    vectors, _centres = clustered(n, dim, n // 100, rng)
    with psycopg.connect(admin_dsn(settings), autocommit=True) as admin:  # the application's login owns no index
        admin.execute("DROP INDEX IF EXISTS watchlist_embeddings_hnsw_128")
    version_id, ids = synthetic_version(conn, store, settings, n, dim, vectors, copies=False)
    start = time.perf_counter()
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        ensure_hnsw_index(conn, dim)
    index_s = time.perf_counter() - start
    with psycopg.connect(admin_dsn(settings), autocommit=True) as admin:
        admin.execute("ANALYZE watchlist_embeddings")
    # Probes: new samples around stored points (a second photo of a listed face).
    picks = rng.integers(0, n, size=queries)
    probes = vectors[picks] + 0.15 * rng.normal(size=(queries, dim)).astype(np.float32) / np.sqrt(dim)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    exact_top1 = (probes @ vectors.T).argmax(axis=1)
    index_of = {entry_id: i for i, entry_id in enumerate(ids)}

    hnsw_ms, hits = [], 0
    for probe, truth in zip(probes, exact_top1):
        start = time.perf_counter()
        found = search(conn, version_id, probe, dim=dim, k=1, ef_search=settings.match.ef_search)
        hnsw_ms.append((time.perf_counter() - start) * 1000)
        hits += index_of[found[0].entry_id] == truth
    scan_ms = []
    for probe in probes[: max(10, queries // 10)]:
        start = time.perf_counter()
        with conn.transaction():
            conn.execute("SET LOCAL enable_indexscan = off")
            conn.execute("SELECT entry_id FROM watchlist_embeddings WHERE version_id = %s AND embedding_dim = 128 "
                         "ORDER BY embedding::vector(128) <=> %s::vector(128) LIMIT 1", (version_id, probe)).fetchone()
        scan_ms.append((time.perf_counter() - start) * 1000)
    return {"entries": n, "queries": queries, "index_build_s": index_s, "hnsw_p50_ms": float(np.median(hnsw_ms)),
            "hnsw_p95_ms": p95(hnsw_ms), "scan_p95_ms": p95(scan_ms), "recall1": hits / queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds (a check that the bench runs, "
                        "not a figure)")
    args = parser.parse_args()
    home = setup_env()
    from lfr_core.config import get_settings
    from lfr_core.db.connection import connect
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_ops.local_stack import manager

    settings = get_settings()
    console = Console()
    manager.up(settings)
    from lfr_ops.bench_env import add_people

    add_people(settings)  # the bench's people: it plans and purges as them
    store = ObjectStore(settings)
    try:
        with connect(settings) as conn:
            console.print("build ...")
            build = bench_build(conn, store, settings, 4 if args.quick else 80)
            console.print("purge ...")
            purge = bench_purge(conn, store, settings, 200 if args.quick else 10_000, 50 if args.quick else 1000)
            console.print("search ...")
            search = bench_search(conn, store, settings, 2000 if args.quick else 100_000, 50 if args.quick else 500)
    finally:
        manager.down(settings)

    table = Table(title="watchlist benchmark (one core)")
    for column in ("measure", "value", "baseline", "baseline value", "ratio"):
        table.add_column(column)
    b1, b2 = build["batched"], build["one at a time"]
    table.add_row("build images/s", f"{b1['images_per_s']:.1f}", "one image at a time", f"{b2['images_per_s']:.1f}",
                  f"{b1['images_per_s'] / b2['images_per_s']:.2f}x")
    table.add_row(f"purge {purge['entries']} entries (s)", f"{purge['purge_s']:.2f}", "row/object at a time",
                  f"{purge['naive_s_extrapolated']:.2f}", f"{purge['naive_s_extrapolated'] / purge['purge_s']:.1f}x faster")
    table.add_row(f"top-1 p95 at {search['entries']} (ms)", f"{search['hnsw_p95_ms']:.2f}", "exact scan (SQL)",
                  f"{search['scan_p95_ms']:.2f}", f"{search['scan_p95_ms'] / search['hnsw_p95_ms']:.1f}x faster")
    table.add_row("recall@1 vs exact", f"{search['recall1']:.3f}", "numpy exact", "1.000", "")
    console.print(table)
    summary = {
        "build_images_per_s_per_core": round(b1["images_per_s"], 2),
        "build_speedup_vs_one_at_a_time": round(b1["images_per_s"] / b2["images_per_s"], 2),
        "purge_s": round(purge["purge_s"], 3),
        "purge_speedup_vs_naive": round(purge["naive_s_extrapolated"] / purge["purge_s"], 2),
        "pgvector_p95_ms": round(search["hnsw_p95_ms"], 3),
        "pgvector_recall1": round(search["recall1"], 4),
        "pgvector_scan_p95_ms": round(search["scan_p95_ms"], 3),
        "hnsw_index_build_s": round(search["index_build_s"], 2),
        "quick": args.quick, "purge_entries": purge["entries"], "search_entries": search["entries"],
        "details": {"build": build, "purge": purge, "search": search},
    }
    print(json.dumps(summary))
    shutil.rmtree(home, ignore_errors=True)  # a run that fails keeps its LFR_HOME (the services' logs)


if __name__ == "__main__":
    main()
