"""Policy packs: the written rules a deployment runs under (issue 27 item 1), one versioned TOML file per
jurisdiction, validated here.

The platform ships `uk-app` (the Met's LFR policy and the College of Policing APP) and `eu-ai-act` (Regulation (EU)
2024/1689 Art 5(1)(h)) in lfr_core/deployments/packs/; a force adds its own, or replaces a shipped one, in the
folder `LFR_POLICY__PACKS_DIR`. A file is read and checked by `read_pack`; `lfr policy load NAME` records one
version in the database (lfr_core/deployments/policy_store.py), whose triggers then enforce it: the use case in
the closed list, the window's length, the categories of a list, the references an approval needs. A loaded
version never changes, so a changed file must carry a new `version`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lfr_core.config import CATEGORIES, Settings
from lfr_core.errors import InvalidInput, NotFound

SHIPPED_DIR = Path(__file__).resolve().parent / "packs"
PACK_SUFFIX = ".toml"

# An assessment a pack may require before approval, and the deployment's column that references it.
Assessment = Literal["dpia", "eia", "fria", "registration"]
ASSESSMENTS: dict[str, str] = {
    "dpia": "data protection impact assessment (DPA 2018 s.64; GDPR/LED)",
    "eia": "equality impact assessment (public sector equality duty; Bridges paras 175-201)",
    "fria": "fundamental rights impact assessment (Regulation (EU) 2024/1689 Art 27)",
    "registration": "registration in the EU database's secure section (Regulation (EU) 2024/1689 Art 49(4))",
}
Category = Literal["wanted_by_court", "wanted_suspect", "missing_person", "risk_to_self_or_others"]
assert set(Category.__args__) == set(CATEGORIES), "the pack's categories are the manifests' (config.CATEGORIES)"  # type: ignore[attr-defined]

Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UseCase(_Rule):
    """One entry of a pack's closed list of purposes: what a planner picks, the policy section it rests on, and
    the watchlist categories a list built for it may hold (Bridges para 124: closed categories, no catch-all)."""

    id: Slug
    label: Text
    reference: Text
    categories: list[Category] = Field(min_length=1)
    offences: list[Text] = Field(default_factory=list, description="the offences it is limited to (EU: Annex II)")

    @field_validator("categories")
    @classmethod
    def distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a category is listed twice")
        return value


class ExternalAuthorisation(_Rule):
    """Art 5(3): a judicial or independent administrative authority's prior decision per use; `urgency_hours` is
    how long an urgent start may run before that decision is requested (0: no urgent start)."""

    required: bool
    urgency_hours: float = Field(ge=0, le=24 * 7)


class ThresholdRule(_Rule):
    """The lowest match threshold a deployment may run at, per model (embedder name), never below the value at
    which the model's recorded equitability evaluation shows no flagged difference between groups."""

    default_floor: float = Field(gt=0, lt=1)
    floors: dict[str, Annotated[float, Field(gt=0, lt=1)]] = Field(default_factory=dict)
    never_below_equitability: bool = True

    def floor_for(self, model: str) -> float:
        return self.floors.get(model, self.default_floor)


class FaceSizeRule(_Rule):
    """The reliable face size rule (issue 32 item 2): a face size is reliable for a model when FNIR's 95% upper
    bound at the operating threshold, at that size and every larger one of its latest recorded size curve, stays
    within `reliable_fnir_factor` times the bound as photographed. The live gate runs at that size by default."""

    reliable_fnir_factor: float = Field(ge=1.0, le=20.0)


class Under18Rule(_Rule):
    """Children are not ordinarily listed (SWP SOP, Bridges para 127); an exception carries a written rationale."""

    allowed: bool
    rationale_required: bool


class Retention(_Rule):
    alerts_days: int = Field(ge=1, le=3650)
    use_log_days: int = Field(ge=1, le=3650, description="the per-use log (Art 26(6): at least six months)")


class NoticeRule(_Rule):
    """Advance public notice of the time and duration (APP; Home Office SOP), withheld only for a critical
    threat, with the reason recorded."""

    advance_notice_hours: float = Field(ge=0, le=24 * 30)
    may_withhold_for_critical_threat: bool
    withhold_reason_required: bool


# Fields added to the pack format after its first packs were loaded, each with a default that means "not used"
# (no notification of each use, no derogation, no face-size rule): at that default a pack's content and hash
# are what they were before the field existed. A new field is added here with such a default.
ADDED_LATER = ("two_person_derogation", "notify_each_use", "face_size")


class PolicyPack(_Rule):
    name: Slug
    version: int = Field(ge=1)
    title: Text
    jurisdiction: Text
    sources: list[Text] = Field(min_length=1)
    use_cases: list[UseCase] = Field(min_length=1)
    required_assessments: list[Assessment]
    external_authorisation: ExternalAuthorisation
    threshold: ThresholdRule
    max_window_hours: float = Field(gt=0, le=24 * 14)
    max_list_age_hours: float = Field(gt=0, le=24 * 14, description="a list is built at most this long before its window")
    under_18: Under18Rule
    retention: Retention
    two_person_verification: bool
    # Art 14(5) second subparagraph: Union or national law may find the second verifier disproportionate for law
    # enforcement; a pack under the AI Act that turns it off records that law here (issue 28 item 2).
    two_person_derogation: Text | None = None
    notice: NoticeRule
    # Art 5(4): each use notified to the market surveillance authority and the data protection authority. Off by
    # default, and left out of the content when off, so a pack written before the rule keeps its hash.
    notify_each_use: bool = False
    # Issue 32 item 2: the factor of the reliable face size rule. Unset (a pack written before the rule): the
    # configuration's quality.reliable_fnir_factor, and left out of the content so that pack keeps its hash.
    face_size: FaceSizeRule | None = None

    @model_validator(mode="after")
    def closed_list(self) -> PolicyPack:
        ids = [u.id for u in self.use_cases]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"use case ids must be unique: {', '.join(twice)} repeated")
        if len(set(self.required_assessments)) != len(self.required_assessments):
            raise ValueError("required_assessments lists an assessment twice")
        if self.two_person_verification and self.two_person_derogation:
            raise ValueError("two_person_derogation is for a pack that turns two_person_verification off")
        if not self.two_person_verification and not self.two_person_derogation and self.under_ai_act:
            raise ValueError("a pack under Regulation (EU) 2024/1689 turns two_person_verification off only with "
                             "the national-law derogation recorded in two_person_derogation (Art 14(5))")
        return self

    @property
    def under_ai_act(self) -> bool:
        """Whether the pack applies the EU AI Act (its sources cite Regulation (EU) 2024/1689)."""
        return any("2024/1689" in source for source in self.sources)

    def use_case(self, use_case_id: str) -> UseCase:
        """The use case with this id; InvalidInput naming the pack's closed list otherwise."""
        for case in self.use_cases:
            if case.id == use_case_id:
                return case
        raise InvalidInput(f"use case {use_case_id!r} is not in policy pack {self.name} v{self.version}; "
                           f"choose one of: {', '.join(u.id for u in self.use_cases)}")

    @property
    def ref(self) -> str:
        return f"{self.name} v{self.version}"

    def content(self) -> dict[str, Any]:
        """The pack as JSON, as the database keeps it; a field added later (`ADDED_LATER`) is left out at its
        default, so that a pack loaded before the field existed keeps its hash."""
        content = self.model_dump(mode="json")
        for name in ADDED_LATER:
            if getattr(self, name) == type(self).model_fields[name].default:
                content.pop(name)
        return content

    @property
    def sha256(self) -> str:
        """The hash of the pack's content (canonical JSON: keys sorted, no spaces), not of the file's bytes, so a
        comment or a reordering does not make a new version."""
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def describe_errors(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'pack'}: {e['msg']}" for e in error.errors())


def parse_pack(data: dict[str, Any], where: str) -> PolicyPack:
    """A pack from its parsed content; InvalidInput naming `where` and each field at fault."""
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as e:
        raise InvalidInput(f"policy pack {where} is invalid: {describe_errors(e)}") from e


def read_pack(path: Path) -> PolicyPack:
    """Read and check one pack file; its `name` must be the file's name without `.toml`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise NotFound(f"policy pack {path} cannot be read: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"policy pack {path} is not valid TOML: {e}") from e
    pack = parse_pack(data, str(path))
    if pack.name != path.name.removesuffix(PACK_SUFFIX):
        raise InvalidInput(f"policy pack {path} is invalid: name: {pack.name!r} must be the file's name "
                           f"({path.name.removesuffix(PACK_SUFFIX)!r})")
    return pack


def pack_files(settings: Settings) -> dict[str, Path]:
    """Every pack file by name: the shipped ones, then the force's own folder, whose pack replaces a shipped one of
    the same name."""
    folders = [SHIPPED_DIR]
    if settings.policy.packs_dir is not None:
        if not settings.policy.packs_dir.is_dir():
            raise NotFound(f"LFR_POLICY__PACKS_DIR {settings.policy.packs_dir} is not a folder")
        folders.append(settings.policy.packs_dir)
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob(f"*{PACK_SUFFIX}")):
            found[path.name.removesuffix(PACK_SUFFIX)] = path
    return found


def available_packs(settings: Settings) -> list[PolicyPack]:
    """Every pack file, read and checked (one invalid file fails the whole answer, naming it)."""
    return [read_pack(path) for _, path in sorted(pack_files(settings).items())]


def pack_file(settings: Settings, name: str) -> PolicyPack:
    """The pack file of this name; NotFound naming the packs there are."""
    files = pack_files(settings)
    if name not in files:
        raise NotFound(f"no policy pack {name!r}; packs: {', '.join(sorted(files)) or 'none'}")
    return read_pack(files[name])
