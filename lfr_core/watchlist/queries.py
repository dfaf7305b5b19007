"""The watchlist context's SQL (issue 26 item 1): the only module that reads or writes watchlist_versions,
watchlist_entries, watchlist_embeddings and staging_claims. Each function asks one thing and returns frozen
records or scalars; writes run inside the caller's transaction (`with conn.transaction()` or `acting`)."""

from __future__ import annotations
