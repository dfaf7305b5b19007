"""What starts a deployment run (dags/lfr_deployment.py): the choices its trigger form offers a planner, read
when Airflow parses the DAG file, and the options a run takes only from the API's `conf` (demo and test knobs,
never shown in the form).

The form's choices come from the platform's own records: the people who hold the authoriser role, and the
folders a new deployment may build from (lfr_core/watchlist/sources.py decides which). They are read each time
the DAG file is parsed; when the database or the object store does not answer then, the form still renders,
with a free-text field and a help text saying why (`FormChoices.unavailable`). Nothing here imports Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lfr_core.config import Settings
from lfr_core.db.connection import connect
from lfr_core.errors import InvalidInput, Unavailable
from lfr_core.identity import people
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import format_time
from lfr_core.watchlist import queries as watchlist_queries
from lfr_core.watchlist.sources import StagedFolder, staged_folders

log = logging.getLogger(__name__)

# A parse must not hang on a database that does not answer: the DAG processor times a file out at 30 s.
PARSE_CONNECT_TIMEOUT_S = 3


@dataclass(frozen=True)
class FormChoices:
    """What the trigger form offers: None where it could not be read when the DAG file was parsed."""

    authorisers: tuple[str, ...] | None
    folders: tuple[StagedFolder, ...] | None
    unavailable: tuple[str, ...] = field(default=())  # why a choice could not be read, one line each


def form_choices(settings: Settings) -> FormChoices:
    """The authorisers and the staged folders a planner may choose from now. A database or object store that
    does not answer is logged and leaves that choice None (the form then asks for free text)."""
    quick = settings.model_copy(update={"db": settings.db.model_copy(
        update={"connect_timeout_s": min(settings.db.connect_timeout_s, PARSE_CONNECT_TIMEOUT_S)})})
    authorisers: tuple[str, ...] | None = None
    folders: tuple[StagedFolder, ...] | None = None
    unavailable: list[str] = []
    try:
        with connect(quick, vector=False) as conn:
            authorisers = tuple(people.holding(conn, "authoriser"))
            claimed = watchlist_queries.claimed_staging_folders(conn)
    except (Unavailable, psycopg.Error) as e:
        unavailable.append(f"the database did not answer ({str(e).splitlines()[0][:200]})")
    else:
        try:
            folders = tuple(staged_folders(settings, ObjectStore(settings), claimed))
        except Unavailable as e:
            unavailable.append(f"the object store did not answer ({str(e).splitlines()[0][:200]})")
    for reason in unavailable:
        log.warning("lfr_deployment's trigger form falls back to free text: %s", reason)
    return FormChoices(authorisers, folders, tuple(unavailable))


class RunOptions(BaseModel):
    """What a run takes from the API's `conf` only (the demo, the tests, automation), never from the form:
    declared here once, with the defaults a planner's run gets. The run's first task refuses values out of
    bounds, with the reason on the run's page."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # A name counts only in demo mode for a run nobody signed in for (lfr_core.workflow.tasks.run_planner).
    planner: str = Field("", max_length=200)
    demo: bool = Field(False, description="Short windows and fast polling; a typed planner for `airflow dags test`")
    poke_interval_s: int = Field(60, ge=1, le=3600, description="How often the approval wait looks, seconds")
    approval_timeout_minutes: float | None = Field(
        None, ge=0.01, le=7 * 24 * 60, description="None: watchlist.approval_timeout_minutes from the settings")
    approve_with: Literal["airflow", "cli"] = Field(
        "airflow", description="airflow: an authoriser answers under Required Actions; cli: a headless run, "
                               "approved with `lfr watchlist approve`")
    # The manifest named directly, for a run whose folder was staged after the form was last read.
    manifest_uri: str = Field("", max_length=2000)


CONF_ONLY = tuple(RunOptions.model_fields)


def run_options(params: Mapping[str, Any]) -> RunOptions:
    """The run's conf-only options; InvalidInput names each one out of bounds."""
    given = {k: params[k] for k in CONF_ONLY if params.get(k) is not None}
    try:
        return RunOptions.model_validate(given)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise InvalidInput(f"invalid run options in the conf: {problems}") from e


def in_force_time(settings: Settings, moment: datetime) -> str:
    """A moment as a planner in the force reads it: UK date order, 24-hour clock, the zone named."""
    return f"{format_time(moment, settings.zone, seconds=False)} ({settings.time_zone})"
