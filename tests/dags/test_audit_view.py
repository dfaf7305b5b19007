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
