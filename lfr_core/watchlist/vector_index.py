"""The vector index is one place: HNSW per embedding dimension, and the one function that searches it.

Templates of several models share one table (untyped `vector` plus `embedding_dim`); each dimension gets
a partial expression HNSW index on `embedding::vector(dim)` with cosine distance. Every query is scoped to
one watchlist version, and its index parameters are set with SET LOCAL in its own transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import psycopg

# HNSW build parameters (pgvector defaults are m=16, ef_construction=64; a little more recall for
# small lists costs little since lists are small and built once).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 100


def ensure_hnsw_index(conn: psycopg.Connection, dim: int) -> None:
    # Through the schema owner's function (migration 0009): the application's login owns no table.
    conn.execute("SELECT ensure_hnsw_index(%s, %s, %s)", (int(dim), HNSW_M, HNSW_EF_CONSTRUCTION))


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    subject_ref: str
    category: str
    score: float  # cosine similarity


def search(conn: psycopg.Connection, version_id: uuid.UUID | str, embedding: np.ndarray, *, dim: int,
           k: int = 5, ef_search: int = 100) -> list[Candidate]:
    """Top-k candidates of one version by cosine similarity, through the HNSW index."""
    dim = int(dim)
    if embedding.shape != (dim,):
        raise ValueError(f"probe has shape {embedding.shape}; this version's model gives {dim}-d embeddings")
    with conn.transaction():
        conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
        # Version filtering happens after the index scan; iterative scans keep going until k rows pass it.
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        rows = conn.execute(
            f"""SELECT e.entry_id, w.subject_ref, w.category,
                       1 - (e.embedding::vector({dim}) <=> %(q)s::vector({dim})) AS score
                FROM watchlist_embeddings e JOIN watchlist_entries w ON w.id = e.entry_id
                WHERE e.version_id = %(v)s AND e.embedding_dim = {dim}
                ORDER BY e.embedding::vector({dim}) <=> %(q)s::vector({dim})
                LIMIT %(k)s""",
            {"q": embedding.astype(np.float32), "v": version_id, "k": k},
        ).fetchall()
    return [Candidate(r["entry_id"], r["subject_ref"], r["category"], float(r["score"])) for r in rows]
