"""`lfr demo`: the main job on the embedded default, end to end (see lfr_core.demo)."""

from __future__ import annotations

from pathlib import Path

import typer

from lfr_core import demo, orchestration
from lfr_core.cli.common import EXIT_UNAVAILABLE, cli_errors, console, load_settings
from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.demo_data import choose_demo_data
from lfr_core.feed import Feed, FeedError
from lfr_core.services import manager, serve_service
from lfr_core.services.process import ServiceError


def run_demo(
    data: Path | None = typer.Option(None, "--data", help="Image folder to use when ../shared is absent"),
    window_lead_s: float = typer.Option(75.0, "--lead", min=20, help="Seconds until the window opens"),
    window_s: float = typer.Option(45.0, "--window", min=15, help="Window length in seconds"),
    fps: float = typer.Option(5.0, "--fps", min=0.5, max=30, help="Camera frames per second"),
    keep_serve: bool = typer.Option(False, "--keep-serve", help="Leave Ray Serve running afterwards"),
) -> None:
    """Plan a deployment, build and approve its watchlist, stream a camera through Serve, adjudicate the
    alerts, then expire, purge and publish the transparency report."""
    settings = load_settings()
    errors = ((ServiceError, EXIT_UNAVAILABLE), (DatabaseUnavailable, EXIT_UNAVAILABLE), (FileNotFoundError, 2),
              (TimeoutError, EXIT_UNAVAILABLE), (FeedError, EXIT_UNAVAILABLE))
    with cli_errors(*errors):
        chosen = choose_demo_data(settings, data)
        console.rule("1. services")
        manager.up(settings)
        report = manager.status(settings)
        for name in ("postgres", "s3"):
            item = report[name]
            extra = f" pgvector {item['pgvector']}, schema v{item['schema_version']}" if name == "postgres" else ""
            console.print(f"{name:9} {item['address']:22} {'[green]healthy[/]' if item['healthy'] else '[red]down[/]'}{extra}")
        if not all(report[name]["healthy"] for name in ("postgres", "s3")):
            raise typer.Exit(EXIT_UNAVAILABLE)
        console.print(f"demo data: {chosen.source} — {chosen.description}")
        roster = demo.ensure_people(settings)
        console.print(f"people: {', '.join(f'{a.name} ({a.role})' for a in demo.DEMO_PEOPLE)}; their passwords are "
                      f"in {roster} (sign in with `lfr login NAME` or on the console)", highlight=False)

        console.rule("2. planner: custody images and the deployment DAG")
        plan = demo.make_plan(settings, chosen)
        for note in plan.notes:
            console.print(note)
        conf, reference = demo.stage(settings, plan, window_lead_s, window_s)
        console.print(f"{len(plan.subjects)} subjects staged; manifest {conf['manifest_uri']}")
        console.print(f"window {conf['window_start']} → {conf['window_end']}")
        dag_log = settings.home / "logs" / f"demo-{reference}.log"
        run = demo.start_deployment_dag(settings, conf, dag_log)
        console.print(f"lfr_deployment running (`airflow dags test`), log: {dag_log}")

        console.rule("3. live service")
        console.print("starting Ray Serve on " + serve_service.address(settings) + " …")
        serve_service.start(settings)
        console.print("[green]Serve healthy[/]")

        console.rule("4. authoriser: approve the sealed draft")
        approved = orchestration.approve_when_built(settings, reference, demo.AUTHORISER, timeout_s=window_lead_s + 120)
        state = demo.deployment_state(settings, reference)
        console.print(f"version {approved['version']} approved by {approved['approved_by']}: "
                      f"{state['entries_accepted']} accepted, {state['entries_rejected']} rejected; "
                      f"criteria sha256 {approved['criteria_sha256'][:16]}…")
        console.print(f"threshold {approved['threshold']:.4f}: {approved['threshold_source']}", highlight=False)

        console.rule("5. window opens: the DAG activates the list")
        state = demo.wait_for(lambda: (s := demo.deployment_state(settings, reference)) and s["state"] == "active" and s,
                              window_lead_s + 120, "activation")
        deployment_id = str(state["id"])
        key = demo.staff_and_camera(settings, deployment_id)
        console.print(f"deployment {deployment_id} live; {demo.OPERATOR.name} assigned to it, camera key issued "
                      f"(shown once, not stored); the operator console is "
                      f"{serve_service.address(settings)}/console?deployment={deployment_id}", highlight=False)

        console.rule("6. camera: " + Path(plan.feed_source).name)
        feed = Feed(serve_service.address(settings), deployment_id, key, camera_id="demo-cam-1", fps=fps)
        stats = feed.run(plan.feed_source)
        summary = stats.summary()
        console.print(f"frames sent {summary['frames_sent']}, answered {summary['frames_ok']}, dropped "
                      f"{summary['dropped']}, faces {summary['faces']}, alerts {summary['alerts']}, "
                      f"p95 {summary['p95_ms']} ms")

        console.rule("7. operator: adjudicate alerts")
        for alert in demo.adjudicate_demo_alerts(settings, deployment_id, plan.expected_subject):
            console.print(f"alert {alert['id']}: {alert['subject_ref']} score {alert['score']:.3f} on "
                          f"{alert['camera_id']} → [bold]{alert['status']}[/] by {alert['adjudicated_by']}")

        console.rule("8. window closes: expiry, purge, report")
        demo.wait_for(lambda: not run.thread.is_alive(), window_lead_s + window_s + 300, "the DAG run to finish", 1.0)
        if run.result.get("rc") != 0:
            raise ServiceError(f"the lfr_deployment run failed (exit {run.result.get('rc')}); see {dag_log}")
        state = demo.deployment_state(settings, reference)
        receipt = state["purge_receipt"]
        console.print(f"watchlist {state['state']}: {receipt['deleted']} deleted, remaining "
                      f"{receipt['verified']['embeddings_remaining']} embeddings / "
                      f"{receipt['verified']['objects_remaining']} objects; receipt {receipt['receipt_uri']}")
        console.print(demo.report_markdown(settings, deployment_id))
        verified, checkpoints = demo.audit_head(settings)
        console.print(f"audit log: {verified.rows} rows, {'[green]intact[/]' if verified.ok else '[red]BROKEN[/]'}, "
                      f"head {verified.head[:16]}…, {checkpoints['checkpoints']} signed checkpoints (latest covers "
                      f"{checkpoints['latest_tree_size']} rows)" + "".join(f"\n  {p}" for p in verified.problems))
        if not keep_serve:
            serve_service.stop(settings)
        console.print("done. Sign in as one of the demo's people (`lfr login demo.admin`, password in "
                      f"{demo.people_file(settings)}), then inspect with `lfr deployment show " + deployment_id +
                      "`, `lfr audit verify`; "
                      "`lfr services up --airflow --serve` starts the Airflow UI, audit view and console, and "
                      "`lfr services status` says where each is and how to sign in; stop them with "
                      "`lfr services down`.")


def register(app: typer.Typer) -> None:
    app.command("demo")(run_demo)
