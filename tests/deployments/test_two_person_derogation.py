"""Two-person verification in the packs (issue 28 item 2): on in eu-ai-act; a pack under the AI Act turns it off only
with the national-law derogation recorded; a pack outside it (uk-app) decides for itself; an absent derogation does
not change a pack's content hash."""

from __future__ import annotations

import pytest

from lfr_core.deployments import policy
from lfr_core.errors import InvalidInput
from tests.deployments.test_policy_packs import shipped


def test_a_pack_under_the_ai_act_turns_it_off_only_with_its_derogation():
    data = shipped("eu-ai-act")
    data["two_person_verification"] = False
    with pytest.raises(InvalidInput, match="only with the national-law derogation recorded"):
        policy.parse_pack(data, "where")
    data["two_person_derogation"] = "Ley Orgánica X/2026 art. 12: a single verifier for urgent missing-person searches"
    pack = policy.parse_pack(data, "where")
    assert not pack.two_person_verification and pack.content()["two_person_derogation"].startswith("Ley")


def test_a_derogation_beside_the_rule_switched_on_is_refused():
    data = shipped("eu-ai-act")
    data["two_person_derogation"] = "none needed"
    with pytest.raises(InvalidInput, match="two_person_derogation is for a pack that turns"):
        policy.parse_pack(data, "where")


def test_outside_the_ai_act_the_pack_decides_and_the_hash_is_unchanged():
    uk = policy.parse_pack(shipped("uk-app"), "where")
    assert not uk.two_person_verification and uk.two_person_derogation is None and not uk.under_ai_act
    assert "two_person_derogation" not in uk.content()
    assert policy.parse_pack(shipped("eu-ai-act"), "where").under_ai_act
