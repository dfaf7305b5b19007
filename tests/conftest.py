"""Session fixtures: the real services (embedded PostgreSQL + pgvector, moto's S3 server) started once,
under a temporary LFR_HOME on free ports, and stopped at the end."""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lfr_core.config import PROJECT_ROOT, Settings, get_settings
from lfr_core.identity.model import Actor
from lfr_ops import bench_env
from lfr_ops.bench_env import free_port, private_service_env  # noqa: F401 (the benches' helpers; tests import both here)
from lfr_ops.demo.data import labelled_faces, manifest_columns, stage_custody_manifest

PLANNER = Actor("pat.planner", "planner")
AUTHORISER = Actor("ann.authoriser", "authoriser")
OPERATOR = Actor("olly.operator", "operator")
ADMIN = Actor("ada.admin", "admin")
AUDITOR = Actor("aud.auditor", "auditor")
# The tests' people (lfr_core/identity/people.py): real PostgreSQL logins in their roles' groups.
PEOPLE = {actor.name: [actor.role] for actor in (PLANNER, AUTHORISER, OPERATOR, ADMIN, AUDITOR)}
PEOPLE["ivy.operator"] = ["operator"]
PEOPLE["pam.both"] = ["planner", "authoriser"]  # may build and approve, never the same list
PASSWORD = "test-password-not-secret"


def add_people(settings) -> None:
    """The tests' people, added by the database administrator (as `lfr person add --bootstrap` does)."""
    import psycopg
    from psycopg.rows import dict_row

    from lfr_core.db.connection import admin_dsn
    from lfr_core.identity import people

    with psycopg.connect(admin_dsn(settings), row_factory=dict_row) as conn:
        known = {p["name"] for p in people.list_people(conn)}
        for name, roles in PEOPLE.items():
            if name not in known:
                people.add(conn, name, roles, PASSWORD)


def signed_in_env(settings, name: str) -> dict[str, str]:
    """Environment for a CLI subprocess signed in as this person (their own session file)."""
    from lfr_core.identity import sessions

    path = settings.home / "sessions" / f"{name}.json"
    sessions.login(settings.model_copy(update={"identity": settings.identity.model_copy(
        update={"session_file": path})}), name, PASSWORD)
    return {"LFR_IDENTITY__SESSION_FILE": str(path)}


# What `lfr deployment create` needs of the deployment record under the default pack (uk-app), for an approval too.
RECORD_ARGS = ("--use-case", "sought_persons", "--location-rationale", "people wanted on warrant are seen here",
               "--dpia-ref", "DPIA-1", "--eia-ref", "EIA-1")


def make_deployment(conn, settings, *, starts_in_s: float = 3600, length_s: float = 3600, categories=None,
                    operator: str = OPERATOR.name, authorising_officer: str = AUTHORISER.name):
    """A deployment planned by PLANNER with `operator` assigned (lfr_ops/bench_env.py, the benches' own)."""
    return bench_env.make_deployment(conn, settings, starts_in_s=starts_in_s, length_s=length_s,
                                     categories=categories, operator=operator, planner=PLANNER,
                                     authorising_officer=authorising_officer)


def wait_until(moment: datetime) -> None:
    bench_env.wait_until(moment + timedelta(seconds=0.05))


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """These variables set (and the settings read again) inside the block, as they were after it."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


# Fixtures that start a real service, or that only tests running one ask for (pytest_collection_modifyitems).
SERVICE_FIXTURES = frozenset({"services", "service_env", "airflow_db"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The `services` marker by rule, so that `pytest -m "not services"` is the fast layer whatever folder a test
    is in: a test whose fixture closure (its own fixtures, theirs in turn, and the autouse ones) holds one of
    SERVICE_FIXTURES gets it. `services` starts PostgreSQL and S3, and everything that needs them is built on
    it (the face engine on the session's settings, the Serve application, Airflow, the security tests' autouse
    clean-up); `service_env` is the private services' environment, which a test asks for to start services on
    its free ports; `airflow_db` migrates Airflow's metadata database for `dag.test()`. A test that starts a
    service with no such fixture (a bench or the CLI in a subprocess, an S3 server of its own, Ray) carries
    `@pytest.mark.services` by hand.

    The `browser` marker likewise: every test of a module that drives Chromium (it imports tests.browser's
    `launch`) gets it, so that `make test-fast` can leave the browser out too."""
    from tests import browser

    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
        module = getattr(item, "module", None)
        if module is not None and getattr(module, "launch", None) is browser.launch:
            item.add_marker(pytest.mark.browser)


def require_resolved_evidence(settings: Settings, required: bool) -> None:
    """Put the requirement of resolved impostor evidence on sealing and activating a list back, or leave it out
    (the database administrator's change to the lifecycle table, as a migration makes it)."""
    import psycopg

    from lfr_core.db.connection import admin_dsn

    with psycopg.connect(admin_dsn(settings), autocommit=True) as conn:
        conn.execute("""UPDATE state_transitions SET requires = array_remove(requires, 'resolved_evidence')
                                                         || CASE WHEN %s THEN '{resolved_evidence}'::text[]
                                                                 ELSE '{}'::text[] END
                        WHERE object_type = 'watchlist_version'
                          AND (from_state, to_state) IN (('draft', 'approved'), ('approved', 'active'))""",
                     (required,))


@pytest.fixture()
def resolved_evidence_required(services) -> Iterator[None]:
    """Sealing and activating a list need resolved impostor evidence, as in a deployed database."""
    require_resolved_evidence(services, True)
    try:
        yield
    finally:
        require_resolved_evidence(services, False)


@pytest.fixture(scope="session")
def lfr_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lfr-home")


@pytest.fixture(scope="session")
def service_env(lfr_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    shared = os.environ.get("LFR_SHARED_DIR", str(PROJECT_ROOT.parent / "shared"))
    # Local manifests of the tests live in their tmp folders and name the shared faces.
    roots = [str(tmp_path_factory.getbasetemp()), shared]
    # Tests take decisions through the domain functions, which leave the checkpoint to the commands and DAG
    # tasks that call them; the session's `lfr audit verify` runs would otherwise fail on decisions left
    # uncovered. tests/security/test_audit_witness.py checks that rule with its own settings.
    env = {**private_service_env(lfr_home), "LFR_SHARED_DIR": shared,
           "LFR_WATCHLIST__SOURCE_ROOTS": json.dumps(roots), "LFR_AUDIT__DECISION_CHECKPOINT_MINUTES": "1440"}
    with environment(env):
        yield env


@pytest.fixture(scope="session")
def services(service_env: dict[str, str]) -> Iterator[Settings]:
    """PostgreSQL and S3 up, schema migrated, buckets created."""
    from lfr_ops.local_stack import manager

    settings = get_settings()
    manager.up(settings)
    add_people(settings)
    # Sealing needs impostor evidence that resolves the list (issue 32 item 5), which no calibration gives until a
    # test records one; the tests of everything else seal lists all the same, so the session's database leaves the
    # requirement out and the tests of that rule put it back around themselves (`resolved_evidence_required`).
    require_resolved_evidence(settings, False)
    yield settings
    manager.down(settings)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = get_settings().shared_dir
    if not (path / "data" / "faces" / "manifest.csv").is_file():
        pytest.skip(f"shared data not found at {path} (set LFR_SHARED_DIR)")
    return path


@pytest.fixture(scope="session")
def faces_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "faces"


@pytest.fixture(scope="session")
def face_engine(services):
    from lfr_core.vision.engine import build_engine

    return build_engine(services)


@pytest.fixture(scope="session")
def store(services):
    from lfr_core.storage.objectstore import ObjectStore

    return ObjectStore(services)


def own_reports_bucket(settings: Settings) -> Settings:
    """Settings whose reports bucket is a fresh object-locked one: made with the S3 admin key (the platform's key
    may not make buckets) and granted to the platform's key as its reports bucket is."""
    from lfr_ops.local_stack.s3server import EmbeddedS3

    bucket = f"lfr-ckpt-{uuid.uuid4().hex[:12]}"
    server = EmbeddedS3.from_settings(settings)
    server.admin_store().client.make_bucket(bucket, object_lock=True)
    own = settings.model_copy(update={"s3": settings.s3.model_copy(update={"bucket_reports": bucket})})
    server.grant_buckets_of(own.s3, bucket)
    return own


@pytest.fixture()
def db(services):
    from lfr_core.db.connection import connect

    with connect(services) as conn:
        yield conn


# A planned deployment's manifest of real custody-style images: the watchlist's, workflow's, identity's and
# operator tooling's tests build lists from them.
_names = itertools.count()


@pytest.fixture(scope="session")
def identities(services, shared_dir):
    """Identities from the high-resolution sets: first image enrols, the rest probe."""
    faces = labelled_faces(services, ("deepface", "ageitgey"))
    return {name: imgs for name, imgs in faces.items() if len(imgs) >= 2}


CUSTODY_BASIS = "PACE 1984 s.64A: custody image retained under the MoPI code"


def subject_rows(identities, count: int, *, category: str = "wanted_suspect") -> list[dict[str, str]]:
    return [
        {"subject_ref": f"SUBJ-{name}", "category": category, "rationale": "wanted on warrant W-123",
         "provenance": f"CUSTODY-{i:04d}", "capture_date": "2025-06-01", "legal_basis": CUSTODY_BASIS,
         "age_band": "18_plus", "path": str(imgs[0].path)}
        for i, (name, imgs) in enumerate(list(identities.items())[:count])
    ]


@pytest.fixture()
def stage(store, services):
    def _stage(rows: list[dict[str, str]]) -> str:
        return stage_custody_manifest(store, services, rows, f"test-{next(_names)}-{time.time_ns()}")

    return _stage


def local_manifest(folder, rows: list[dict[str, str]]):
    """A CSV manifest in `folder` whose image paths are relative to it (`faces/<ref>.<ext>`), as a planner
    keeps custody images beside their list; returns the manifest's path."""
    faces = Path(folder) / "faces"
    faces.mkdir(parents=True, exist_ok=True)
    manifest = Path(folder) / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=manifest_columns(rows))
        writer.writeheader()
        for row in rows:
            image = Path(row["path"])
            shutil.copy(image, faces / f"{row['subject_ref']}{image.suffix}")
            writer.writerow({**{k: v for k, v in row.items() if k != "path"},
                             "image_uri": f"faces/{row['subject_ref']}{image.suffix}"})
    return manifest
