"""The vector index is one place: HNSW per embedding dimension, and the one function that searches it.

Templates of several models share one table (untyped `vector` plus `embedding_dim`); each dimension gets
a partial expression HNSW index on `embedding::vector(dim)` with cosine distance. Every query is scoped to
one watchlist version, and its index parameters are set with SET LOCAL in its own transaction
(lfr_core/watchlist/queries.py nearest_templates).
"""

from __future__ import annotations

import uuid

import numpy as np
import psycopg

from lfr_core.watchlist import queries
from lfr_core.watchlist.model import Candidate

__all__ = ["HNSW_EF_CONSTRUCTION", "HNSW_M", "Candidate", "ensure_hnsw_index", "search"]

# HNSW build parameters (pgvector defaults are m=16, ef_construction=64; a little more recall for
# small lists costs little since lists are small and built once).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 100


def ensure_hnsw_index(conn: psycopg.Connection, dim: int) -> None:
    queries.ensure_hnsw_index(conn, int(dim), HNSW_M, HNSW_EF_CONSTRUCTION)


def search(conn: psycopg.Connection, version_id: uuid.UUID | str, embedding: np.ndarray, *, dim: int,
           k: int = 5, ef_search: int = 100) -> list[Candidate]:
    """Top-k candidates of one version by cosine similarity, through the HNSW index."""
    dim = int(dim)
    if embedding.shape != (dim,):
        raise ValueError(f"probe has shape {embedding.shape}; this version's model gives {dim}-d embeddings")
    return queries.nearest_templates(conn, version_id, embedding, dim=dim, k=int(k), ef_search=int(ef_search))
