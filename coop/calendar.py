"""Every day, ISO-week, month and fiscal-year boundary, in the coop's time zone.

"This month" means one thing everywhere: the month on the coop's wall calendar (config
TIMEZONE, `COOP_TIMEZONE`, default Europe/Paris), so a member and the board always agree.
Columns store naive UTC, so spans come back as naive-UTC datetimes, with unix nanoseconds
beside them for the ledger. Local midnights are turned into UTC by zoneinfo, so a day is 23
or 25 hours long across a DST change and every instant falls in exactly one span.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Paris"


@dataclass(frozen=True)
class Span:
    """A half-open period [start, end) as naive-UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def start_ns(self) -> int:
        return unix_ns(self.start)

    @property
    def end_ns(self) -> int:
        return unix_ns(self.end)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def coop_zone() -> ZoneInfo:
    """Return the coop's time zone from the app's config (Europe/Paris outside an app)."""
    from flask import current_app, has_app_context

    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def unix_ns(moment: datetime) -> int:
    """Return a naive-UTC datetime as nanoseconds since the epoch (the ledger's time)."""
    whole = moment.replace(tzinfo=UTC, microsecond=0)
    return int(whole.timestamp()) * 10**9 + moment.microsecond * 1000


def local_date(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """Return the coop's calendar date at a naive-UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(zone or coop_zone()).date()


def midnight(day: date, zone: ZoneInfo | None = None) -> datetime:
    """Return the naive-UTC instant at which day begins on the coop's wall clock."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone or coop_zone())
    # A zone that skips midnight (a DST gap) starts the day at the first existing instant:
    # zoneinfo maps a missing local time forward, and the round trip below keeps it.
    return local.astimezone(UTC).replace(tzinfo=None)


def _span(first: date, after: date, zone: ZoneInfo | None) -> Span:
    return Span(midnight(first, zone), midnight(after, zone))


def day(moment: datetime, zone: ZoneInfo | None = None) -> Span:
    """Return the coop's calendar day holding moment (naive UTC)."""
    today = local_date(moment, zone)
    return _span(today, today + timedelta(days=1), zone)


def iso_week(moment: datetime, zone: ZoneInfo | None = None) -> Span:
    """Return the ISO week (Monday to Monday) holding moment on the coop's calendar."""
    today = local_date(moment, zone)
    monday = today - timedelta(days=today.isoweekday() - 1)
    return _span(monday, monday + timedelta(days=7), zone)


def _first_of(year: int, month: int, delta: int = 0) -> date:
    index = year * 12 + month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def month(moment: datetime, zone: ZoneInfo | None = None) -> Span:
    """Return the calendar month holding moment on the coop's calendar."""
    today = local_date(moment, zone)
    return _span(_first_of(today.year, today.month), _first_of(today.year, today.month, 1), zone)


def fiscal_year(moment: datetime, start_month: int = 1, zone: ZoneInfo | None = None) -> Span:
    """Return the fiscal year holding moment, for a year starting on the 1st of start_month."""
    if not 1 <= start_month <= 12:
        raise ValueError("start_month is 1 to 12")
    today = local_date(moment, zone)
    year = today.year if today.month >= start_month else today.year - 1
    first = date(year, start_month, 1)
    return _span(first, _first_of(year, start_month, 12), zone)


def month_key(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """Return the month holding moment as YYYY-MM (how statements name months)."""
    return local_date(moment, zone).strftime("%Y-%m")


def month_span(key: str, zone: ZoneInfo | None = None) -> Span:
    """Return the month named YYYY-MM."""
    year, mon = int(key[:4]), int(key[5:7])
    return _span(date(year, mon, 1), _first_of(year, mon, 1), zone)


def shift_month(key: str, delta: int) -> str:
    """Return the YYYY-MM month delta months after (or before) key."""
    first = _first_of(int(key[:4]), int(key[5:7]), delta)
    return f"{first.year:04d}-{first.month:02d}"


__all__ = [
    "Span",
    "coop_zone",
    "day",
    "fiscal_year",
    "iso_week",
    "local_date",
    "midnight",
    "month",
    "month_key",
    "month_span",
    "shift_month",
    "unix_ns",
]
