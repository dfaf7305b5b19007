"""The watchlist commands as a planner, an authoriser and an auditor use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from lfr_core.config import get_settings
from tests.conftest import RECORD_ARGS, signed_in_env, subject_rows


def lfr(*args: str, actor: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI signed in as `actor` (a test person, tests/conftest.py), or not signed in at all."""
    env = {**os.environ, "LFR_IDENTITY__SESSION_FILE": os.devnull + ".none"}
    if actor:
        env.update(signed_in_env(get_settings(), actor))
    return subprocess.run([sys.executable, "-m", "lfr_ops.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def last_json(result: subprocess.CompletedProcess[str]):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_planner_builds_authoriser_approves_auditor_verifies(services, identities, stage):
    start = datetime.now(UTC) + timedelta(hours=1)
    created = last_json(lfr(
        "deployment", "create", *RECORD_ARGS, "--place", "Cardiff Central", "--purpose", "wanted persons",
        "--legal-basis", "common law", "--intelligence-ref", "INT-7", "--start", start.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "--end", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S%z"), "--authorising-officer", "ann.authoriser",
        "--json", actor="pat.planner"))
    manifest = stage(subject_rows(identities, 3))
    built = last_json(lfr("watchlist", "build", "--deployment", created["id"], "--manifest", manifest, "--json",
                          actor="pat.planner"))
    assert built["state"] == "draft" and built["entries_accepted"] == 3

    not_an_authoriser = lfr("watchlist", "approve", built["id"], actor="pat.planner")
    assert not_an_authoriser.returncode == 3 and "needs the role authoriser" in not_an_authoriser.stderr
    approved = last_json(lfr("watchlist", "approve", built["id"], "--json", actor="ann.authoriser"))
    assert approved["state"] == "approved" and approved["approved_by"] == "ann.authoriser"
    early = lfr("watchlist", "activate", built["id"], actor="olly.operator")
    assert early.returncode == 3 and "outside" in early.stderr

    shown = last_json(lfr("deployment", "show", created["id"], "--json", actor="aud.auditor"))
    assert [v["state"] for v in shown["versions"]] == ["approved"]
    assert last_json(lfr("audit", "verify", "--json", actor="aud.auditor"))["ok"] is True
    exported = lfr("audit", "export", "--type", "watchlist_version", "--id", built["id"], actor="aud.auditor")
    assert [json.loads(line)["action"] for line in exported.stdout.splitlines()] == ["watchlist.build", "watchlist.approved"]


def test_cli_refuses_bad_input_with_exit_codes(services):
    missing = lfr("watchlist", "build", "--deployment", "00000000-0000-0000-0000-000000000000",
                  "--manifest", "/nowhere.csv", actor="pat.planner")
    assert missing.returncode == 2 and "no deployment" in missing.stderr
    past = lfr("deployment", "create", *RECORD_ARGS, "--place", "x", "--purpose", "x", "--legal-basis", "x", "--intelligence-ref", "x",
               "--start", "2020-01-01T10:00:00+0000", "--end", "2020-01-01T12:00:00+0000", "--authorising-officer", "x",
               actor="pat.planner")
    assert past.returncode == 2 and "in the past" in past.stderr
    wrong_role = lfr("watchlist", "purge", "00000000-0000-0000-0000-000000000000", "--reason", "t",
                     actor="olly.operator")
    assert wrong_role.returncode == 3 and "may not purge" in wrong_role.stderr
    nobody = lfr("watchlist", "purge", "00000000-0000-0000-0000-000000000000", "--reason", "t")
    assert nobody.returncode == 3 and "not signed in" in nobody.stderr
