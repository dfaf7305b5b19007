"""The `lfr_deployment` trigger form: what a planner decides, in plain words, and checked by its schema.

A planner sees the place, the policy pack and its use case, the location rationale, the watchlist categories, the
purpose and legal basis, the intelligence reference, the references to the assessments, the window in the force's
time zone, the authorising officer picked from the platform's authorisers, the staged folder of
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
from lfr_core.deployments.policy import ASSESSMENTS, PolicyPack, available_packs
from lfr_core.errors import LfrError
from lfr_core.workflow.trigger import FormChoices, form_choices

# Each watchlist category a deployment allows, as a planner reads it.
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


def _packs(settings: Settings) -> list[PolicyPack] | None:
    """The pack files, or None when one cannot be read (the form then asks for free text; the run's first task
    names the fault)."""
    try:
        return available_packs(settings)
    except LfrError:
        return None


def _policy_params(settings: Settings) -> dict[str, Param]:
    """The pack, its use case (from every pack's closed list; the run's first task checks it is the chosen pack's)
    and the location rationale (issue 27 item 2)."""
    packs = _packs(settings)
    default = settings.policy.default_pack
    if packs is None:
        policy = Param(default, type="string", minLength=1, maxLength=64, title="Policy pack",
                       description="The policy pack the deployment runs under (the pack files could not be read "
                                   "when this form was made).")
        use_case = Param(None, type="string", minLength=1, maxLength=64, pattern=r"\S", title="Use case",
                         description="The use case, from the pack's closed list (lfr policy show PACK).")
    else:
        policy = Param(default, type="string", enum=[p.name for p in packs],
                       values_display={p.name: f"{p.title} (v{p.version})" for p in packs}, title="Policy pack",
                       description="The written policy the deployment runs under: its use cases, the assessments an "
                                   "approval needs, the longest window.")
        shown = {u.id: f"{u.label} ({u.reference})" for p in packs for u in p.use_cases}
        use_case = Param(None, type="string", enum=list(shown), values_display=shown, title="Use case",
                         description="Why this deployment is run, from the chosen pack's closed list; it decides "
                                     "the watchlist categories it may hold.")
    return {
        "policy": policy, "use_case": use_case,
        "location_rationale": _text("Location rationale", "Why the people on the list are expected at this place "
                                                          "in this window (not a description of the place).",
                                    max_length=4000, multiline=True),
    }


def _references() -> dict[str, Param]:
    return {f"{kind}_ref": Param(None, type=["null", "string"], maxLength=200, title=f"{kind.upper()} reference",
                                 description=f"The reference of the {what}, where the pack requires it: a list is "
                                             f"not approved without it.")
            for kind, what in ASSESSMENTS.items()}


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
        # Where and when first: the window is what the public notice gives in advance.
        "window_start": Param(None, type="string", format="date-time", title="Window opens",
                              description=f"When the cameras start looking for the people on the list. It must "
                                          f"be in the future. {when}"),
        "window_end": Param(None, type="string", format="date-time", title="Window closes",
                            description=f"When the list is taken down and deleted: after the window opens, and at "
                                        f"most {longest:g} hours after it. {when}"),
        **_policy_params(settings),
        "allowed_categories": Param(
            None, type=["null", "array"], minItems=1, uniqueItems=True,
            items={"type": "string", "enum": list(CATEGORIES)}, examples=list(CATEGORIES), values_display=USE_CASES,
            title="Watchlist categories",
            description="Who the watchlist may hold: leave it empty for every category the use case permits, or "
                        "choose fewer. An entry of another kind is rejected when the list is built."),
        "purpose": _text("Purpose", "Why this deployment is necessary and what it should achieve.", max_length=2000,
                         multiline=True),
        "legal_basis": _text("Legal basis", "The law and the force policy that allow it.", max_length=2000,
                             multiline=True),
        "intelligence_ref": _text("Intelligence reference", "The reference of the intelligence case behind this "
                                                            "deployment, e.g. INT-2026-0042.", max_length=200),
        **_references(),
        "authorising_officer": _authorising_officer(choices),
        "staged_folder": _staged_folder(choices, settings),
        "threshold": Param(None, type=["null", "number"], minimum=low, maximum=high, title="Match threshold",
                           description=f"Leave it empty: the list then uses the threshold measured for its face "
                                       f"model. Or a number from {low:g} to {high:g}: higher means fewer false "
                                       f"alerts and more people missed."),
    }
