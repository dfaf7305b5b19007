"""How a person reads a time: in the force's time zone (`Settings.time_zone`, Europe/London by default), UK date
order, a 24-hour clock and the zone named, "05/12/2026 07:34:34 GMT". Times are stored and exchanged as UTC (the
database, the API's JSON, `--json`); this is only for what a person reads: the console (which formats alike in
the browser with Intl.DateTimeFormat('en-GB')), the audit view, the public pages and PDFs, the CLI's tables.

A UK officer reads 05/12 as the 5th of December; "12/5/2026, 7:34:34 AM" (a US browser's default) misleads, and a
time without its zone is ambiguous twice a year."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from lfr_core.config import get_settings

DATE_TIME = "%d/%m/%Y %H:%M:%S %Z"
DATE_MINUTE = "%d/%m/%Y %H:%M %Z"


def force_zone() -> tzinfo:
    """The force's time zone from the settings."""
    return get_settings().zone


def local(when: datetime, zone: tzinfo | None = None) -> datetime:
    """`when` in the force's time zone; a naive time is taken as UTC (what the database and the API hold)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(zone or force_zone())


def format_time(when: datetime | str | None, zone: tzinfo | None = None, *, seconds: bool = True,
                missing: str = "-") -> str:
    """"05/12/2026 07:34:34 GMT": `when` (a datetime or an ISO 8601 string) in the force's zone, or `missing`."""
    if when is None or when == "":
        return missing
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return local(when, zone).strftime(DATE_TIME if seconds else DATE_MINUTE)


def format_span(start: datetime, end: datetime, zone: tzinfo | None = None) -> str:
    """A window: "05/12/2026 07:30 to 09:30 GMT" on one day, else both dates (and both zones: a window may
    cross a change of the clocks)."""
    a, b = local(start, zone), local(end, zone)
    if a.date() == b.date() and a.tzname() == b.tzname():
        return f"{a:%d/%m/%Y %H:%M} to {b:%H:%M %Z}"
    return f"{a:{DATE_MINUTE}} to {b:{DATE_MINUTE}}"
