"""The public reads a deployment's window in the force's time zone, the zone named (issue 31 item 8): the page,
the index, the sign and the leaflet (they said "UTC" while a UK clock read an hour later in summer)."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime

import pytest

from lfr_core.reporting import public_record
from lfr_core.reporting.model import Notice


def notice(start: datetime, end: datetime) -> Notice:
    return Notice(deployment_id="9d3c8a1e-0000-4000-8000-000000000001", force="Test Police", place="Market Square",
                  window_start=start, window_end=end, purpose="p", legal_basis="b", status="planned",
                  how_it_works="h", not_on_the_list="n", on_an_alert="a", contact="c", policy_url="https://example.org/policy",
                  use_case="Crime hotspot (Met LFR policy §2.3(a))",
                  duration=public_record.duration_words(start, end), notice_withheld=False)


def pdf_text(pdf: bytes) -> str:
    """The text drawn by fpdf (each stream deflated; the strings as written, in brackets)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return " ".join(re.findall(r"\((.*?)\)\s*Tj", "".join(out)))


SUMMER = notice(datetime(2026, 5, 12, 7, 30, tzinfo=UTC), datetime(2026, 5, 12, 9, 30, tzinfo=UTC))


def test_the_page_gives_the_window_in_british_summer_time():
    page = public_record.render_page(SUMMER, None)
    assert "Tuesday 12 May 2026, 08:30 to 10:30 BST" in page and "UTC" not in page


@pytest.mark.parametrize("kind", ["sign", "leaflet"])
def test_the_sign_and_leaflet_give_the_window_in_the_force_zone(kind):
    text = pdf_text(public_record.render_pdf(SUMMER, kind))
    assert "08:30 to 10:30 BST" in text, text
    assert "UTC" not in text


def test_a_winter_window_is_gmt_and_one_across_midnight_names_both_days():
    night = notice(datetime(2026, 12, 5, 22, 0, tzinfo=UTC), datetime(2026, 12, 6, 2, 0, tzinfo=UTC))
    assert "05 December 2026 22:00 GMT to 06 December 2026 02:00 GMT" in public_record.render_page(night, None)
