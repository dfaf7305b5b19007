"""The Airflow audit view's report rendering (airflow_plugins/lfr_audit_view.py): the report's Markdown as HTML
with every character escaped once."""

from __future__ import annotations


def test_the_report_markdown_becomes_html_escaped_once():
    from airflow_plugins.lfr_audit_view import markdown_html

    out = markdown_html("# Transparency report: A &amp; B &lt;script&gt;\n\n- Purpose: **find** `x`\n\n"
                        "| measure | count |\n|---|---|\n| alerts | 3 |\n\n_Generated now_")
    assert "<h2>Transparency report: A &amp; B &lt;script&gt;</h2>" in out
    assert "<li>Purpose: <strong>find</strong> <code>x</code></li>" in out
    assert "<th>measure</th>" in out and "<td>3</td>" in out and "<em>Generated now</em>" in out
    assert "<script>" not in out


def test_times_read_in_the_force_zone_without_microseconds():
    # Issue 31 item 8: the view printed Python's "2026-12-05 07:34:34.123456+00:00".
    from datetime import UTC, datetime

    from airflow_plugins.lfr_audit_view import _chain

    out = _chain({"ok": True, "problems": [], "rows": 3, "head": "ab" * 32, "checkpoints": 1, "last_anchor_rows": 3,
                  "verified_at": datetime(2026, 12, 5, 7, 34, 34, 123456, tzinfo=UTC),
                  "last_anchor_at": "2026-05-12T07:00:00.5+00:00"})
    assert "checked at 05/12/2026 07:34:34 GMT" in out and "signed at 12/05/2026 08:00:00 BST" in out
    assert "123456" not in out


def test_the_use_log_page_shows_each_use_its_reference_and_verifiers_escaped():
    # Issue 28 item 3: the per-use log in the audit view.
    from airflow_plugins.lfr_audit_view import use_log_html

    log = {"deployment_id": "d-1", "retention_days": 183,
           "verified": {"ok": True, "problems": [], "audit_rows": 9, "audit_head": "ab" * 32},
           "uses": [{"start": "2026-12-05T10:00:00+00:00", "end": "2026-12-05T12:00:00+00:00",
                     "ended_by": "watchlist.expired", "keep_until": "2027-06-06T12:00:00+00:00",
                     "reference_database": {"version_id": "v-1", "version": 1, "snapshot_sha256": "5" * 64,
                                            "manifest_sha256": "m" * 64, "threshold": 0.42,
                                            "model": {"embedder": {"name": "sface", "version": "2021dec",
                                                                   "weights_sha256": "w" * 64}}},
                     "matches": [{"alert_id": "a-1", "raised_at": "2026-12-05T10:30:00+00:00",
                                  "probe_crop_sha256": "c" * 64, "raise": {"seq": 7, "row_hash": "h"},
                                  "verified_by": [{"person": "<olly>", "role": "operator", "decision": "confirmed",
                                                   "at": "2026-12-05T10:31:00+00:00"}]}]}]}
    out = use_log_html(log)
    assert "Use 1: 05/12/2026 10:00:00 GMT to 05/12/2026 12:00:00 GMT (watchlist.expired)" in out
    assert "cccccccccccccccc" in out and "&lt;olly&gt; (operator): confirmed" in out and "<olly>" not in out
    assert "sface 2021dec" in out and "#7" in out and "<span class='ok'>verified</span>" in out
