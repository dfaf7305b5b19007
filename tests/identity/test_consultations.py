"""`lfr alert list` is a consultation of personal data: refused without a reason, logged with it."""

from __future__ import annotations

import os
import subprocess
import sys

from lfr_core.config import get_settings
from tests.conftest import make_deployment, signed_in_env


def lfr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lfr_ops.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **signed_in_env(get_settings(), "olly.operator")}, timeout=120)


def test_listing_alerts_needs_a_reason_and_is_logged(db, services):
    deployment = make_deployment(db, services, starts_in_s=3600)
    db.commit()
    dep = str(deployment["id"])
    refused = lfr("alert", "list", "--deployment", dep)
    assert refused.returncode == 2 and "--reason" in refused.stderr
    assert lfr("alert", "list", "--deployment", dep, "--reason", "  ").returncode == 2
    not_an_id = lfr("alert", "list", "--deployment", "x", "--reason", "briefing")
    assert not_an_id.returncode == 2 and "not a UUID" in not_an_id.stderr and "Traceback" not in not_an_id.stderr
    listed = lfr("alert", "list", "--deployment", dep, "--reason", "briefing before the deployment", "--json")
    assert listed.returncode == 0, listed.stderr
    db.rollback()
    row = db.execute("SELECT actor, role, action, details FROM audit_log WHERE object_id = %s"
                     " AND action = 'consulted.alert_list'", (dep,)).fetchone()
    assert row["actor"] == "olly.operator" and row["role"] == "operator"
    assert row["details"]["reason"] == "briefing before the deployment" and row["details"]["alerts"] == 0
