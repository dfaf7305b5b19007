"""`lfr demo`: the main job on the embedded default, end to end (see lfr_ops.demo.story)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import typer

from lfr_core.errors import InvalidInput, Unavailable
from lfr_core.times import format_time
from lfr_ops.cli.common import EXIT_UNAVAILABLE, console, domain_errors, load_settings
from lfr_ops.demo import story, ui
from lfr_ops.demo.data import choose_demo_data
from lfr_ops.feed import Feed
from lfr_ops.local_stack import airflow_service, manager, serve_service


@contextmanager
def _outside_errors() -> Iterator[None]:
    """What the demo meets outside the domain, as the kind of error it is (the CLI's table gives the exit code)."""
    try:
        yield
    except FileNotFoundError as e:  # demo data that is not there
        raise InvalidInput(str(e)) from e
    except TimeoutError as e:  # a step that did not come (the scheduler, a replica)
        raise Unavailable(str(e)) from e
    except httpx.HTTPError as e:  # Airflow's or the live API's answer
        raise Unavailable(f"{type(e).__name__}: {e}") from e


def run_demo(
    data: Path | None = typer.Option(None, "--data", help="Image folder to use when ../shared is absent"),
    window_lead_s: float = typer.Option(90.0, "--lead", min=30, help="Seconds until the window opens"),
    window_s: float = typer.Option(60.0, "--window", min=20, help="Window length in seconds"),
    fps: float = typer.Option(5.0, "--fps", min=0.5, max=30, help="Camera frames per second"),
    by_hand: bool = typer.Option(False, "--by-hand", help="Wait for you to approve in Airflow and decide on the "
                                                          "console instead of answering for the demo's people"),
    keep_ui: bool = typer.Option(False, "--keep-ui", help="Leave Airflow and Ray Serve running afterwards"),
) -> None:
    """The whole story through the platform's own interfaces: a planner triggers the deployment DAG in
    Airflow, an authoriser approves its watchlist under Required Actions, a camera streams through Ray
    Serve, an operator decides the alerts on the console's API, and the window's end expires, purges and
    publishes the report and the public record."""
    settings = load_settings()
    wait_by_hand = 900.0 if by_hand else 0.0
    with domain_errors(), _outside_errors():
        chosen = choose_demo_data(settings, data)
        console.rule("1. services and people")
        manager.up(settings)
        report = manager.status(settings)
        for name in ("postgres", "s3"):
            item = report[name]
            extra = f" pgvector {item['pgvector']}, schema v{item['schema_version']}" if name == "postgres" else ""
            console.print(f"{name:9} {item['address']:22} {'[green]healthy[/]' if item['healthy'] else '[red]down[/]'}{extra}")
        if not all(report[name]["healthy"] for name in ("postgres", "s3")):
            raise typer.Exit(EXIT_UNAVAILABLE)
        console.print(f"demo data: {chosen.source} — {chosen.description}")
        roster = story.ensure_people(settings)
        story.ensure_airflow(settings)
        serve_service.start(settings)
        console_url = serve_service.address(settings) + "/console"
        airflow = airflow_service.status(settings)
        console.print(f"people: {', '.join(f'{a.name} ({a.role})' for a in story.DEMO_PEOPLE)}", highlight=False)
        console.print(f"Airflow UI     {airflow['ui']}  sign in as {story.PLANNER.name} or {story.AUTHORISER.name} with "
                      f"their platform password ({roster})", highlight=False)
        console.print(f"console        {console_url}  sign in as {story.OPERATOR.name}", highlight=False)
        console.print(f"audit view     {airflow['audit_view']}  (as {story.ADMIN.name})", highlight=False)
        console.print(f"public record  {serve_service.address(settings)}/public/deployments", highlight=False)

        console.rule("2. planner: custody images, then the deployment DAG triggered in Airflow")
        plan = story.make_plan(settings, chosen)
        for note in plan.notes:
            console.print(note)
        conf, reference = story.stage(settings, plan, window_lead_s, window_s)
        console.print(f"{len(plan.subjects)} subjects staged; manifest {conf['manifest_uri']}")
        console.print(f"window {format_time(conf['window_start'])} → {format_time(conf['window_end'])}")
        planner = ui.AirflowAs(settings, story.PLANNER.name, story.password_of(settings, story.PLANNER.name))
        run_id = planner.trigger(conf)
        console.print(f"{story.PLANNER.name} triggered {planner.ui('/dags/lfr_deployment/runs/' + run_id)}",
                      highlight=False)

        console.rule("3. authoriser: Required Actions in Airflow")
        authoriser = ui.AirflowAs(settings, story.AUTHORISER.name,
                                  story.password_of(settings, story.AUTHORISER.name))
        run_page = planner.ui('/dags/lfr_deployment/runs/' + run_id)

        def stopped(state: object = None) -> str | None:
            """The deployment lapsed or was cancelled (with its reason), or the run failed: stop at once."""
            why = story.why_stopped(story.deployment_state(settings, reference))
            if why is None and planner.run_state(run_id) == "failed":
                why = f"the lfr_deployment run failed; its task logs say why: {run_page}"
            return why
        asked = ui.wait(lambda: authoriser.required_action(run_id), bool, window_lead_s + 120,
                             "the approval request (is the scheduler running? see `lfr services status`)", stop=stopped,
                             report=progress, detail=lambda _: f"the run is {planner.run_state(run_id)}")
        console.print(f"{asked['subject']}; may answer: {', '.join(u['id'] for u in asked['assigned_users'])}; "
                      f"{authoriser.ui('/required_actions')}", highlight=False)
        if by_hand:
            console.print(f"[bold]approve it there as {story.AUTHORISER.name}[/] (waiting up to 15 min)")

        def approval() -> dict | None:
            if not by_hand and authoriser.answer_if_asked(run_id, "Approve"):
                console.print(f"{story.AUTHORISER.name} approved under Required Actions", highlight=False)
            return story.deployment_state(settings, reference)

        state = ui.wait(approval,
                             lambda s: s and s["state"] in ("approved", "active"), window_lead_s + 120 + wait_by_hand,
                             "the approval", stop=stopped, report=progress,
                             detail=lambda s: f"the list is {s['state']}" if s else "no list built yet")
        console.print(f"version approved by {state['approved_by']}: {state['entries_accepted']} accepted, "
                      f"{state['entries_rejected']} rejected", highlight=False)

        console.rule("4. window opens: the DAG activates the list")
        state = ui.wait(lambda: story.deployment_state(settings, reference), lambda s: s["state"] == "active",
                             window_lead_s + 120, "activation", stop=stopped, report=progress,
                             detail=lambda s: f"the list is {s['state']}; the window opens at "
                                              f"{format_time(conf['window_start'])}")
        deployment_id = str(state["id"])
        key = story.staff_and_camera(settings, deployment_id)
        console.print(f"deployment {deployment_id} live; {story.OPERATOR.name} assigned; camera key issued (shown "
                      f"once, not stored); console {console_url}?deployment={deployment_id}", highlight=False)

        console.rule("5. camera: " + Path(plan.feed_source).name)
        feed = Feed(serve_service.address(settings), deployment_id, key, camera_id="demo-cam-1", fps=fps)
        summary = feed.run(plan.feed_source).summary()
        console.print(f"frames sent {summary['frames_sent']}, answered {summary['frames_ok']}, dropped "
                      f"{summary['dropped']}, faces {summary['faces']}, alerts {summary['alerts']}, "
                      f"p95 {summary['p95_ms']} ms")

        console.rule("6. operator: the console's alert queue")
        operator = ui.ConsoleAs(serve_service.address(settings), story.OPERATOR.name,
                                story.password_of(settings, story.OPERATOR.name), "adjudicating the demo's alerts")
        if by_hand:
            console.print(f"[bold]decide the alerts on {console_url} as {story.OPERATOR.name}[/] (waiting up to 15 min)")
            ui.wait(lambda: operator.pending(deployment_id), lambda p: not p, wait_by_hand, "your decisions", 2.0,
                    report=progress, detail=lambda p: f"{len(p)} alert(s) awaiting a decision")
        for alert in operator.pending(deployment_id):
            expected = plan.expected_subject in (None, alert["subject_ref"])
            decided = operator.decide(alert["id"], "confirmed" if expected else "declined",
                                      "matches the custody image" if expected else "a different person")
            if expected:
                decided = operator.record_outcome(alert["id"], "subject", "spoken to; no further action needed",
                                                  disposal="no_action")
            console.print(f"alert {alert['id']}: {alert['subject_ref']} score {alert['score']:.3f} on "
                          f"{alert['camera_id']} → [bold]{decided['status']}[/] by {decided['adjudicated_by']}"
                          + (f", outcome {decided['engagement']}" if decided["engagement"] else ""), highlight=False)
        board = operator.dashboard(deployment_id)
        console.print(f"dashboard: {board['faces_seen']} faces seen, {board['alerts']} alerts, {board['true_alerts']} "
                      f"true, {board['false_alerts']} false", highlight=False)

        console.rule("7. window closes: expiry, purge, report, public record")
        # The run expires, purges and reports at the window's end; if it died, the reconciling sweep does
        # (lfr_deployment_reconcile, within a minute): the story finishes either way.
        ui.wait(lambda: planner.run_state(run_id) == "success" or story.finished(settings, deployment_id), bool,
                     window_lead_s + window_s + 300, "expiry, purge and the report at the window's end", 2.0,
                     report=progress, detail=lambda _: f"the window ends at {format_time(conf['window_end'])}")
        if planner.run_state(run_id) == "failed":
            console.print(f"[yellow]the lfr_deployment run failed ({run_page}); the reconciling sweep finished the "
                          f"deployment[/]", highlight=False)
        state = story.deployment_state(settings, reference)
        receipt = state["purge_receipt"]
        console.print(f"watchlist {state['state']}: {receipt['deleted']} deleted, remaining "
                      f"{receipt['verified']['embeddings_remaining']} embeddings / "
                      f"{receipt['verified']['objects_remaining']} objects; receipt {receipt['receipt_uri']}")
        console.print(story.report_markdown(settings, deployment_id))
        public = httpx.get(f"{serve_service.address(settings)}/public/deployments/{deployment_id}/results",
                           timeout=30).json()
        console.print(f"public record {serve_service.address(settings)}/public/deployments/{deployment_id}: "
                      f"{public['faces_seen']} faces seen, {public['alerts']} alerts ({public['true_alerts']} true, "
                      f"{public['false_alerts']} false), {public['arrests']} arrests; reconciled with the audit log: "
                      f"{public['reconciled_with_audit_log']}", highlight=False)
        verified, checkpoints = story.audit_head(settings)
        console.print(f"audit log: {verified.rows} rows, {'[green]intact[/]' if verified.ok else '[red]BROKEN[/]'}, "
                      f"head {verified.head[:16]}…, {checkpoints['checkpoints']} signed checkpoints (latest covers "
                      f"{checkpoints['latest_tree_size']} rows); {airflow['audit_view']}"
                      + "".join(f"\n  {p}" for p in verified.problems), highlight=False)
        if not keep_ui:
            serve_service.stop(settings)
            airflow_service.stop(settings)
        console.print("done. " + ("Airflow and the console are still up (above); " if keep_ui else
                                  "`lfr services up --airflow --serve` brings Airflow, the audit view and the console "
                                  "back; ") +
                      f"sign in as one of the demo's people (passwords in {story.people_file(settings)}); "
                      "`lfr services status` says where each service is; stop them with `lfr services down`.")


def progress(line: str) -> None:
    """A wait's progress line (lfr_ops/demo/ui.py wait): what it waits for and the time left, dimmed."""
    console.print(f"[dim]{line}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(run_demo)
