"""Audit: the append-only, hash-chained log every context writes its changes to (log.py), the signed Merkle
checkpoints of that log kept in the object store (checkpoints.py), and the witness outside the database that
remembers what `lfr audit verify` verified (witness.py). Callers import the module they use, e.g.
`from lfr_core.audit import log as audit` and then `audit.append(...)`; this package re-exports nothing."""
