"""Times as a person reads them (lfr_core/times.py, issue 31 item 8): the force's zone, UK date order, a 24-hour
clock and the zone named, on either side of a change of the clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lfr_core.times import format_span, format_time

LONDON = ZoneInfo("Europe/London")


def test_a_winter_morning_reads_in_uk_order_on_a_24_hour_clock_with_gmt():
    assert format_time(datetime(2026, 12, 5, 7, 34, 34, 123456, tzinfo=UTC), LONDON) == "05/12/2026 07:34:34 GMT"


def test_a_summer_afternoon_is_british_summer_time():
    assert format_time(datetime(2026, 5, 12, 13, 4, 5, tzinfo=UTC), LONDON) == "12/05/2026 14:04:05 BST"


def test_an_iso_string_and_a_naive_time_are_taken_as_utc():
    assert format_time("2026-05-12T13:04:05+00:00", LONDON) == "12/05/2026 14:04:05 BST"
    assert format_time(datetime(2026, 12, 5, 19, 0), LONDON, seconds=False) == "05/12/2026 19:00 GMT"
    assert format_time(None) == "-"


def test_another_force_names_its_own_zone():
    assert format_time(datetime(2026, 12, 5, 7, 34, 34, tzinfo=UTC), ZoneInfo("Europe/Dublin")) == \
        "05/12/2026 07:34:34 GMT"
    assert format_time(datetime(2026, 12, 5, 7, 34, 34, tzinfo=UTC), ZoneInfo("Europe/Paris")) == \
        "05/12/2026 08:34:34 CET"


def test_the_default_zone_is_the_settings(monkeypatch):
    from lfr_core.config import get_settings

    monkeypatch.setenv("LFR_TIME_ZONE", "Europe/Paris")
    get_settings.cache_clear()
    try:
        assert format_time(datetime(2026, 12, 5, 7, 0, tzinfo=UTC)) == "05/12/2026 08:00:00 CET"
    finally:
        monkeypatch.delenv("LFR_TIME_ZONE")
        get_settings.cache_clear()


def test_a_window_names_its_day_once_and_both_zones_across_a_change_of_the_clocks():
    same_day = format_span(datetime(2026, 12, 5, 7, 30, tzinfo=UTC), datetime(2026, 12, 5, 9, 30, tzinfo=UTC), LONDON)
    assert same_day == "05/12/2026 07:30 to 09:30 GMT"
    across = format_span(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON)
    assert across == "25/10/2026 01:30 BST to 25/10/2026 01:30 GMT"
