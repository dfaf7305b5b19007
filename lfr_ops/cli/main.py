"""`lfr`: the platform's command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from lfr_ops.cli import (
    alert_cmd,
    audit_cmd,
    camera_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    deployment_cmd,
    eval_cmd,
    feed_cmd,
    people_cmd,
    policy_cmd,
    report_cmd,
    services_cmd,
    watchlist_cmd,
)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Live facial recognition platform")

for module in (services_cmd, config_cmd, db_cmd, deployment_cmd, watchlist_cmd, audit_cmd, eval_cmd, camera_cmd,
               demo_cmd, feed_cmd, alert_cmd, people_cmd, policy_cmd, report_cmd):
    module.register(app)


if __name__ == "__main__":
    app()
