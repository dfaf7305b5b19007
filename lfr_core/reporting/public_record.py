"""The public record of a deployment: before the window, a notice (place, times, purpose, legal basis, what
happens to images of people not on the watchlist, how to contact the force) as a web page, a printable sign
and a leaflet (PDF); after it, the results in the shape forces publish per deployment (date, place, times,
watchlist size, threshold, faces seen and how many of them could have been recognised, alerts, true and false
alerts, engagements, arrests and other outcomes), counted from the audit log and reconciled with the alert table.

Nothing here identifies anyone on a watchlist: no subject reference, category, image or officer's name is
read, only the deployment's public terms and counts."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.alerts.model import AlertClass, Disposal
from lfr_core.config import Settings
from lfr_core.deployments import authorisation, policy_store
from lfr_core.deployments import queries as deployments_queries
from lfr_core.deployments import service as deployments
from lfr_core.deployments.model import DeploymentStatus
from lfr_core.errors import NotFound
from lfr_core.reporting import reports, tally
from lfr_core.reporting.model import Notice, PublicResults
from lfr_core.times import local
from lfr_core.watchlist import gate

# What the public reads for each status (a lapsed deployment's window passed without it going live); every status
# has its words, so every deployment is public.
PUBLIC_WORDS: dict[DeploymentStatus, str] = {
    DeploymentStatus.PLANNED: "planned", DeploymentStatus.LIVE: "in use now", DeploymentStatus.CLOSED: "used",
    DeploymentStatus.CANCELLED: "cancelled", DeploymentStatus.LAPSED: "not used"}
# The statuses the public record shows: those it has words for. A status the database holds and this code does
# not know (a migration ahead of the code) is not shown: the public routes answer 404 for it.
PUBLIC_STATUSES: tuple[DeploymentStatus, ...] = tuple(s for s in DeploymentStatus if s in PUBLIC_WORDS)
# Statuses whose results are final and published (the window is over, or it never happened).
FINISHED_STATUSES: tuple[DeploymentStatus, ...] = (
    DeploymentStatus.CLOSED, DeploymentStatus.CANCELLED, DeploymentStatus.LAPSED)
NOT_USED = ("Live facial recognition was not used: the deployment did not go ahead before its window ended. No "
            "camera was connected and nothing was scanned.")

NOT_ON_THE_LIST = ("If you are not on the watchlist, the system compares your face with the list and deletes it at "
                   "once: no image, face or biometric template of you is stored, and no one sees it.")
# What "could have been recognised" means on the results page (issue 32 item 4).
RECOGNISABLE = ("A face could have been recognised when the camera saw it at least {size} wide: smaller faces "
                "are missed more often, and the smallest are not compared at all. Faces that could not have been "
                "recognised are counted in faces seen all the same.")
ON_AN_ALERT = ("If the system suggests a possible match, an officer compares the two images and decides whether "
               "to speak to the person. An alert is never an identification by itself. The image of a possible "
               "match is kept for {days} days, then deleted unless it is needed as evidence.")


def how_it_works(version: dict[str, Any] | None, settings: Settings) -> str:
    """How faces are compared, in plain words: the live gate's face size and the evidence for it, and the threshold
    (issue 32 item 2), from the deployment's current list; nothing about anyone on it."""
    if version is None:
        return ("The cameras' pictures are searched for faces, and each face wide enough to be recognised is compared "
                "with the watchlist. The watchlist for this deployment is not built yet.")
    px, reliable = gate.gate_face_px(version, settings), version.get("reliable_face_px")
    source = version.get("reliable_face_source") or {}
    words = (f"The cameras' pictures are searched for faces. A face at least {px} pixels wide is compared with the "
             f"watchlist, and the system suggests a possible match when the similarity reaches {version['threshold']:.3f}. ")
    if reliable is None or source.get("curve_id") is None:
        return words + ("No measurement of the system's accuracy by face size is recorded, so faces are compared from "
                        f"the platform's minimum size of {px} pixels; smaller faces are missed more often.")
    words += (f"{reliable} pixels is the smallest face size at which the system's measured rate of missing a listed "
              f"person stayed within {source.get('factor', settings.quality.reliable_fnir_factor):g} times its rate "
              f"on full-size photographs; smaller faces are missed more often.")
    if px < reliable:
        words += (f" An authorising officer decided, and recorded why, that this deployment compares faces from "
                  f"{px} pixels.")
    return words


WITHHELD = ("Advance notice of this deployment was withheld because of a critical threat; the reason is recorded "
            "and the notice is published from the moment the cameras are in use.")


def duration_words(start: datetime, end: datetime) -> str:
    """A window's length as the public reads it: "4 hours 30 minutes"."""
    minutes = round((end - start).total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    parts = ([f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []) + (
        [f"{rest} minute{'s' if rest != 1 else ''}"] if rest or not hours else [])
    return " ".join(parts)


def notice(conn: psycopg.Connection, settings: Settings, deployment_id: uuid.UUID | str) -> Notice:
    """What the public is told before and during the window: the use case, the times and the duration given in
    advance (Home Office SOP), unless the notice was withheld for a critical threat with a recorded reason, in
    which case the deployment is not public until its window opens (NotFound before then)."""
    dep = deployments.get(conn, deployment_id)
    withheld = dep.get("notice_withheld_reason") is not None
    if withheld and datetime.now(UTC) < dep["window_start"]:
        raise NotFound(f"no public deployment {deployment_id}")
    loaded = policy_store.of_deployment(conn, dep)
    case = loaded.pack.use_case(dep["use_case"]) if loaded is not None else None
    return {
        "how_it_works": how_it_works(gate.current_version(conn, dep["id"]), settings),
        "use_case": f"{case.label} ({case.reference})" if case is not None else None,
        "duration": duration_words(dep["window_start"], dep["window_end"]), "notice_withheld": withheld,
        "deployment_id": str(dep["id"]), "force": settings.public.force_name, "place": dep["place"],
        "window_start": dep["window_start"], "window_end": dep["window_end"], "purpose": dep["purpose"],
        "legal_basis": dep["legal_basis"], "status": dep["status"],
        "not_on_the_list": NOT_ON_THE_LIST,
        "on_an_alert": ON_AN_ALERT.format(days=settings.alerts.retention_days),
        "contact": settings.public.contact, "policy_url": settings.public.policy_url,
    }


def results(conn: psycopg.Connection, deployment_id: uuid.UUID | str) -> PublicResults:
    """The published results, counted from the audit log (alerts that retention deleted still count), and
    whether every alert still stored says what the log says of it (lfr_core/reporting/tally.py). A use discarded
    because its authorisation was refused or lapsed (Art 5(3)) has no results: only its deletion receipt remains."""
    if uuid.UUID(str(deployment_id)) in authorisation.discarded(conn):
        raise NotFound(f"deployment {deployment_id}: its use was discarded when its external authorisation was "
                       f"refused or not given in time (Art 5(3)); it has no results, only a deletion receipt")
    report = reports.build_report(conn, str(deployment_id))
    d = report["deployment"]
    t = tally.tally(conn, d["id"])
    return {
        "deployment_id": d["id"], "place": d["place"], "window_start": d["window_start"], "window_end": d["window_end"],
        "status": d["status"], "watchlist_size": report["watchlist"]["size"], "threshold": d["threshold"],
        "faces_seen": report["traffic"]["faces_seen"], "faces_recognisable": report["traffic"]["faces_reliable"],
        "reliable_face_px": report["traffic"]["reliable_face_px"], "alerts": t.alerts,
        "true_alerts": t.true_alerts, "false_alerts": t.false_alerts,
        "true_alerts_confirmed": t.count(AlertClass.TRUE_CONFIRMED),
        "true_alerts_unconfirmed": t.count(AlertClass.TRUE_UNCONFIRMED),
        "false_alerts_confirmed": t.count(AlertClass.FALSE_CONFIRMED),
        "false_alerts_unconfirmed": t.count(AlertClass.FALSE_UNCONFIRMED),
        "not_engaged": t.count(AlertClass.TRUE_UNCONFIRMED),
        "awaiting_decision": t.awaiting_decision, "awaiting_second_verifier": t.awaiting_second,
        "awaiting_result": t.awaiting_result,
        "engagements": t.count(AlertClass.TRUE_CONFIRMED) + t.count(AlertClass.FALSE_CONFIRMED),
        "arrests": t.outcomes[Disposal.ARREST],
        "engagement_outcomes": {str(k): n for k, n in t.outcomes.items()},
        "reviews_due": t.reviews_due, "reviews_done": t.reviews_done,
        "reconciled_with_audit_log": t.reconciled,
        "alerts_still_stored": t.stored, "provisional": bool(t.provisional_reasons),
        "provisional_reasons": t.provisional_reasons,
        # A lapsed deployment never went live: its results say so rather than being refused.
        "used": d["status"] != DeploymentStatus.LAPSED,
        "summary": NOT_USED if d["status"] == DeploymentStatus.LAPSED else None,
    }


def results_if_kept(conn: psycopg.Connection, deployment_id: uuid.UUID | str) -> PublicResults | None:
    """The results for the public page, None for a use discarded under Art 5(3) (the notice stays)."""
    if uuid.UUID(str(deployment_id)) in authorisation.discarded(conn):
        return None
    return results(conn, deployment_id)


def public_deployments(conn: psycopg.Connection) -> list[dict[str, Any]]:
    rows = deployments_queries.public_deployments(conn, PUBLIC_STATUSES)
    return rows


def _when(start: datetime, end: datetime) -> str:
    """The window as the public reads it, in the force's time zone with the zone named (lfr_core/times.py)."""
    start, end = local(start), local(end)
    same_day = start.date() == end.date() and start.tzname() == end.tzname()
    return (f"{start:%A %d %B %Y}, {start:%H:%M} to {end:%H:%M %Z}" if same_day
            else f"{start:%d %B %Y %H:%M %Z} to {end:%d %B %Y %H:%M %Z}")


_STYLE = """body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f5f6f8}
main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;min-height:100vh}
h1{font-size:1.6rem;margin:.2rem 0 1rem} h2{font-size:1.15rem;margin:1.4rem 0 .4rem}
.banner{background:#14213d;color:#fff;padding:.8rem 1rem;border-radius:6px;font-weight:600}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #d5d9e0;padding:.35rem .4rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums} a{color:#0b5cad} .muted{color:#5b6475;font-size:.9rem}
@media print{body{background:#fff} main{max-width:none} .noprint{display:none}}"""


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def render_index(rows: list[dict[str, Any]], settings: Settings) -> str:
    items = "".join(f'<tr><td><a href="/public/deployments/{r["id"]}">{html.escape(r["place"])}</a></td>'
                    f'<td>{_when(r["window_start"], r["window_end"])}</td><td>{PUBLIC_WORDS.get(r["status"], r["status"])}</td></tr>'
                    for r in rows)
    return page(f"{settings.public.force_name}: live facial recognition deployments",
                 f'<div class="banner">{html.escape(settings.public.force_name)}</div>'
                 f"<h1>Live facial recognition deployments</h1>"
                 f"<table><tr><th>Place</th><th>When</th><th>Status</th></tr>{items}</table>"
                 f'<p class="muted">Our policy: <a href="{html.escape(settings.public.policy_url)}">'
                 f"{html.escape(settings.public.policy_url)}</a></p>")


def render_missing(deployment_id: str, settings: Settings) -> str:
    """The page for an address that names no deployment the public may see (a mistyped or withdrawn link)."""
    e = html.escape
    return page(f"{settings.public.force_name}: no such deployment",
                 f'<div class="banner">{e(settings.public.force_name)}</div>'
                 f"<h1>No such deployment</h1>"
                 f"<p>We publish no deployment at this address (<code>{e(deployment_id[:64])}</code>). The link may "
                 f"be mistyped, or shortened when it was copied.</p>"
                 f'<p><a href="/public/deployments">Every deployment we have published</a></p>'
                 f'<p class="muted">Our policy: <a href="{e(settings.public.policy_url)}">'
                 f"{e(settings.public.policy_url)}</a></p>")


def render_page(note: Notice, outcome: PublicResults | None) -> str:
    """The deployment's public page: the notice, and once the window is over, its results."""
    e = html.escape
    dep = note["deployment_id"]
    lapsed = note["status"] == DeploymentStatus.LAPSED
    parts = [f'<div class="banner">{e(note["force"])}: {e(headline(note))}</div>',
             f"<h1>{e(note['place'])}</h1>",
             f"<p><strong>{_when(note['window_start'], note['window_end'])}</strong> ({e(note['duration'])})</p>"]
    if note["use_case"]:
        parts.append(f"<p>Use case: {e(note['use_case'])}</p>")
    if note["notice_withheld"]:
        parts.append(f"<p>{e(WITHHELD)}</p>")
    if note["status"] == DeploymentStatus.CANCELLED:
        parts.append("<p><strong>This deployment was cancelled.</strong></p>")
    if lapsed:
        parts.append(f"<p><strong>{e(NOT_USED)}</strong></p>")
    parts += [f"<h2>Why</h2><p>{e(note['purpose'])}</p>",
              f"<h2>Legal basis</h2><p>{e(note['legal_basis'])}</p>",
              f"<h2>How it works</h2><p>{e(note['how_it_works'])}</p>",
              f"<h2>If you are not on the watchlist</h2><p>{e(note['not_on_the_list'])}</p>",
              f"<h2>If the system suggests a match</h2><p>{e(note['on_an_alert'])}</p>",
              f"<h2>Contact</h2><p>{e(note['contact'])}. Our policy: "
              f'<a href="{e(note["policy_url"])}">{e(note["policy_url"])}</a></p>',
              f'<p class="noprint">Printable <a href="/public/deployments/{dep}/notice.pdf?format=sign">sign</a> and '
              f'<a href="/public/deployments/{dep}/notice.pdf?format=leaflet">leaflet</a> (PDF).</p>']
    if outcome is not None and lapsed:
        parts += ["<h2 id='results'>Results</h2>", f"<p>{e(NOT_USED)}</p>"]
    elif outcome is not None:
        rows = [("Watchlist size", outcome["watchlist_size"]), ("Threshold", f"{outcome['threshold']:.3f}"
                                                                if outcome["threshold"] is not None else "-"),
                ("Faces seen", faces_seen_cell(outcome)), ("Alerts", outcome["alerts"]),
                ("True alerts, confirmed", outcome["true_alerts_confirmed"]),
                ("True alerts, unconfirmed", outcome["true_alerts_unconfirmed"]),
                ("False alerts, confirmed", outcome["false_alerts_confirmed"]),
                ("False alerts, unconfirmed", outcome["false_alerts_unconfirmed"]),
                ("Alerts awaiting a second verifier", outcome["awaiting_second_verifier"]),
                ("Engagements", outcome["engagements"]), ("Arrests", outcome["arrests"])]
        rows += [(f"Outcome: {k.replace('_', ' ')}", n) for k, n in outcome["engagement_outcomes"].items()
                 if k != Disposal.ARREST]
        table = "".join(f"<tr><td>{e(str(k))}</td><td class='n'>{v}</td></tr>" for k, v in rows)
        parts += ["<h2 id='results'>Results</h2>", f"<table>{table}</table>",
                  "<p class='muted'>Counted from the platform's audit log"
                  + (" and reconciled with the alert records." if outcome["reconciled_with_audit_log"]
                     else "; the alert records do not agree with it and are being reviewed.")
                  + (f" {'; '.join(outcome['provisional_reasons'])}: these figures are provisional."
                     if outcome["provisional"] else "") + "</p>",
                  f"<p class='muted'>{e(recognisable_words(outcome))}</p>"]
    return page(f"Live facial recognition: {note['place']}", "".join(parts))


def recognisable_words(outcome: PublicResults) -> str:
    return RECOGNISABLE.format(size=reports.reliable_size_words(outcome["reliable_face_px"]))


def faces_seen_cell(outcome: PublicResults) -> str:
    """The results' "Faces seen": how many, and how many of them could have been recognised (issue 32 item 4)."""
    return f"{outcome['faces_seen']} ({outcome['faces_recognisable']} could have been recognised)"


def headline(note: Notice) -> str:
    return ("live facial recognition not used" if note["status"] == DeploymentStatus.LAPSED
            else "live facial recognition in use")


def _latin1(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def render_pdf(note: Notice, kind: str) -> bytes:
    """A sign (A3 landscape, read from a distance) or a leaflet (A5, the whole notice) to hand out."""
    from fpdf import FPDF

    if kind not in ("sign", "leaflet"):
        raise ValueError(f"unknown notice format {kind!r}: sign or leaflet")
    sign = kind == "sign"
    pdf = FPDF(orientation="L" if sign else "P", format="A3" if sign else (148, 210))  # A5 in mm
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_margins(18 if sign else 12, 14 if sign else 10)
    pdf.add_page()
    width = pdf.epw

    def block(text: str, size: float, style: str = "", gap: float = 2) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.5, _latin1(text))
        pdf.ln(gap)

    block(note["force"], 20 if sign else 10, "B")
    block(headline(note).capitalize(), 60 if sign else 18, "B", 6)
    block(note["place"], 36 if sign else 13, "B")
    block(f"{_when(note['window_start'], note['window_end'])} ({note['duration']})", 28 if sign else 11, "", 6)
    if note["use_case"]:
        block(f"Use case: {note['use_case']}", 18 if sign else 9.5, "", 3)
    if sign:
        block(note["not_on_the_list"], 22)
        block(f"Why: {note['purpose']}", 18)
        block(f"Questions: {note['contact']}. {note['policy_url']}", 18)
    else:
        for heading, text in (("Why", note["purpose"]), ("Legal basis", note["legal_basis"]),
                              ("How it works", note["how_it_works"]),
                              ("If you are not on the watchlist", note["not_on_the_list"]),
                              ("If the system suggests a match", note["on_an_alert"]),
                              ("Contact", f"{note['contact']}. Our policy: {note['policy_url']}")):
            block(heading, 11, "B", 0.5)
            block(text, 9.5, "", 3)
    return bytes(pdf.output())
