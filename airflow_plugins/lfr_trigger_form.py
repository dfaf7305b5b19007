"""The `lfr_deployment` trigger form: what a planner decides, in plain words, and checked by its schema.

A planner sees the place, the use case, the purpose and legal basis, the intelligence reference, the window in
the force's time zone, the authorising officer picked from the platform's authorisers, the staged folder of
the custody images picked from those a new deployment may use, and an optional threshold within its bounds.
Required fields, lengths, formats, bounds and choices are the schema's, so the form refuses them before a run
exists (and the API refuses the same in a `conf`). What a schema cannot check is the run's first task's
(lfr_core.workflow.tasks.create_deployment_from_params), with the reason on the run's page.

The demo and test knobs (planner, demo mode, poll interval, approval timeout, approval mode, a manifest named
directly) are no Params: Airflow shows every declared Param in the form (only a `const` one is hidden, and a
const cannot change), while a `conf` key that is no Param reaches the tasks' params unchecked, so
lfr_core.workflow.trigger.RunOptions declares and checks them in the first task.

The authorisers and folders are read when the DAG file is parsed; not when a worker parses it to run a task
(the run's conf was checked when it was triggered, and a folder its own first task claimed would no longer be
offered). The DAGs import this module from the plugins folder, which Airflow puts on sys.path.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, get_parsing_context

from lfr_core.config import CATEGORIES, Settings
from lfr_core.workflow.trigger import FormChoices, form_choices

# Each use case (the watchlist categories a deployment allows) as a planner reads it.
USE_CASES = {
    "wanted_by_court": "People wanted by the courts",
    "wanted_suspect": "Suspects wanted for an offence",
    "missing_person": "Missing people",
    "risk_to_self_or_others": "People who are a risk to themselves or others",
}
NOT_CHOSEN = "None"  # how values_display names a null choice


def choices_now(settings: Settings) -> FormChoices:
    """The form's choices, or none at all (free text) when a worker parses the file to run a task."""
    if get_parsing_context().task_id is not None:
        return FormChoices(None, None, ("a worker parsed the file to run a task",))
    return form_choices(settings)


def _text(title: str, description: str, *, max_length: int, multiline: bool = False) -> Param:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S"}
    if multiline:
        schema["format"] = "multiline"
    return Param(None, title=title, description=description, **schema)


def _authorising_officer(choices: FormChoices) -> Param:
    title = "Authorising officer"
    if choices.authorisers:
        return Param(None, type="string", enum=list(choices.authorisers), title=title,
                     description="The officer who authorised this deployment, one of the platform's authorisers. "
                                 "They may approve its watchlist.")
    why = ("no one holds the authoriser role yet (an admin adds them: lfr person add NAME --role authoriser)"
           if choices.authorisers == () else "the list of authorisers could not be read when this form was made")
    return Param(None, type="string", minLength=1, maxLength=200, pattern=r"\S", title=title,
                 description=f"Type the platform name of the officer who authorised this deployment: {why}.")


def _staged_folder(choices: FormChoices, settings: Settings) -> Param:
    title = "Custody images (staged folder)"
    if choices.folders is None:
        return Param(None, type=["null", "string"], maxLength=2000, title=title,
                     description="The folders could not be listed when this form was made: type the address of the "
                                 f"manifest in the folder, s3://{settings.s3.bucket_sources}/staging/NAME/manifest.csv.")
    shown = {NOT_CHOSEN: "Choose the folder"}
    shown.update({f.manifest_uri: f.name for f in choices.folders})
    return Param(None, type=["null", "string"], enum=[None, *(f.manifest_uri for f in choices.folders)],
                 values_display=shown, title=title,
                 description="The folder the custody images and their manifest were staged in for this "
                             "deployment. A folder another deployment has used is not offered"
                             + ("." if choices.folders else ": none is staged yet."))


def deployment_params(settings: Settings, choices: FormChoices) -> dict[str, Param]:
    """The form's fields, in the order a planner fills them in."""
    zone = settings.time_zone
    longest = settings.watchlist.max_window_hours
    low, high = settings.match.threshold_min, settings.match.threshold_max
    when = (f"In {zone} time, the force's time zone: Airflow reads the date and time in the time zone chosen "
            f"under your user menu, which should be {zone}. The run keeps it in UTC.")
    return {
        "place": _text("Place", "Where the cameras will be, as the public will read it, e.g. \"Oxford Street, "
                                "outside Bond Street station\".", max_length=500),
        "allowed_categories": Param(
            None, type="array", minItems=1, uniqueItems=True, items={"type": "string", "enum": list(CATEGORIES)},
            examples=list(CATEGORIES), values_display=USE_CASES, title="Use case",
            description="Who the watchlist may hold. Choose only what this deployment is for: an entry of "
                        "another kind is rejected when the list is built."),
        "purpose": _text("Purpose", "Why this deployment is necessary and what it should achieve.", max_length=2000,
                         multiline=True),
        "legal_basis": _text("Legal basis", "The law and the force policy that allow it.", max_length=2000,
                             multiline=True),
        "intelligence_ref": _text("Intelligence reference", "The reference of the intelligence case behind this "
                                                            "deployment, e.g. INT-2026-0042.", max_length=200),
        "window_start": Param(None, type="string", format="date-time", title="Window opens",
                              description=f"When the cameras start looking for the people on the list. It must "
                                          f"be in the future. {when}"),
        "window_end": Param(None, type="string", format="date-time", title="Window closes",
                            description=f"When the list is taken down and deleted: after the window opens, and at "
                                        f"most {longest:g} hours after it. {when}"),
        "authorising_officer": _authorising_officer(choices),
        "staged_folder": _staged_folder(choices, settings),
        "threshold": Param(None, type=["null", "number"], minimum=low, maximum=high, title="Match threshold",
                           description=f"Leave it empty: the list then uses the threshold measured for its face "
                                       f"model. Or a number from {low:g} to {high:g}: higher means fewer false "
                                       f"alerts and more people missed."),
    }
