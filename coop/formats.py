"""Numbers, money, percentages and times in the reader's language: the one place that formats them.

Pages get these as Jinja filters (`|money`, `|percent`, `|hours`, `|datetime`, `|date`,
`|month`, `|ns_time`, `|ns_date`, `|ns_clock`) and the global `zone_name()`; mails,
notifications and statement PDFs call them with the reader's locale and time zone. Each takes
`locale` and `zone` when the reader is not the one Flask-Babel selected for the request (a mail
sent by `coop tick`, a statement in its member's language).
Times are one style everywhere: the medium date and the short time ("29 nov. 2026, 14:05"),
never the US short form.
"""

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

CURRENCY = "EUR"


def _locale(locale: str | Locale | None) -> Locale:
    if locale is None:
        from flask_babel import get_locale

        return get_locale() or Locale.parse("en")
    return Locale.parse(locale)


def _zone(zone: str | tzinfo | None) -> tzinfo:
    if zone is None:
        from flask_babel import get_timezone

        return get_timezone()
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def money(cents: int, locale: str | Locale | None = None) -> str:
    """Format integer cents as euros: '€12.00' in English, '12,00 €' (no-break space) in French."""
    return babel_numbers.format_currency(
        Decimal(int(cents)).scaleb(-2), CURRENCY, locale=_locale(locale)
    )


def _with_decimals(pattern: str, places: int) -> str:
    """Give a locale's whole-number pattern ('#,##0 %') places fixed decimals."""
    return pattern.replace("0", "0." + "0" * places, 1) if places else pattern


def percent(basis_points: int, places: int = 2, locale: str | Locale | None = None) -> str:
    """Format basis points as a percentage: '7.50%', '7,50 %' (places=0: '75%', '75 %')."""
    found = _locale(locale)
    pattern = _with_decimals(found.percent_formats[None].pattern, places)
    return babel_numbers.format_percent(
        Decimal(int(basis_points)).scaleb(-4), format=pattern, locale=found
    )


def hours(minutes: int, locale: str | Locale | None = None) -> str:
    """Format minutes as hours with two decimals, without the unit: 100 -> '1.67', '1,67'."""
    value = (Decimal(int(minutes)) / 60).quantize(Decimal("0.01"))
    return babel_numbers.format_decimal(value, format="#,##0.00", locale=_locale(locale))


def _aware(value: datetime) -> datetime:
    """Stored times are naive UTC; ledger and clock times are aware already."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def datetime_(value: datetime | None, locale: str | Locale | None = None,
              zone: str | tzinfo | None = None) -> str:
    """Format a time as the medium date and the short time in the reader's time zone."""
    if value is None:
        return ""
    found, where = _locale(locale), _zone(zone)
    moment = _aware(value).astimezone(where)
    pattern = babel_dates.get_datetime_format("medium", locale=found).replace("'", "")
    return pattern.replace(
        "{0}", babel_dates.format_time(moment, "short", tzinfo=where, locale=found)
    ).replace("{1}", babel_dates.format_date(moment.date(), "medium", locale=found))


def date_(value: date | datetime | None, locale: str | Locale | None = None,
          zone: str | tzinfo | None = None) -> str:
    """Format a day as the medium date ('4 déc. 2026'); a time gives its day where the reader is."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_zone(zone)).date()
    return babel_dates.format_date(value, "medium", locale=_locale(locale))


def month(value: str, short: bool = False, locale: str | Locale | None = None) -> str:
    """Format a 'YYYY-MM' month with its name: 'December 2026', 'décembre 2026' (short:
    'Dec 2026', 'déc. 2026', for charts)."""
    year, number = (int(part) for part in value.split("-"))
    pattern = "LLL y" if short else "LLLL y"
    return babel_dates.format_date(date(year, number, 1), pattern, locale=_locale(locale))


def ns_time(unix_ns: int, locale: str | Locale | None = None,
            zone: str | tzinfo | None = None) -> str:
    """Format a ledger time (ns since the epoch) to the centisecond, with its zone."""
    where = _zone(zone)
    moment = datetime.fromtimestamp(unix_ns / 1e9, tz=UTC).astimezone(where)
    return babel_dates.format_datetime(
        moment, "d MMM y HH:mm:ss.SS zzz", tzinfo=where, locale=_locale(locale)
    )


def _ns_moment(unix_ns: int) -> datetime:
    """Return a ledger time as an aware UTC datetime, to the microsecond (no float rounding)."""
    seconds, rest = divmod(int(unix_ns), 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=rest // 1000)


def ns_date(unix_ns: int, locale: str | Locale | None = None,
            zone: str | tzinfo | None = None) -> str:
    """Format the day of a ledger time where the reader is, as the medium date."""
    return date_(_ns_moment(unix_ns), locale=locale, zone=zone)


MINUTE_NS = 60 * 1_000_000_000


def ns_clock(unix_ns: int, up: bool = False, beside: int | None = None,
             locale: str | Locale | None = None, zone: str | tzinfo | None = None) -> str:
    """Format a ledger time as the short time of day, to the minute where the reader is.

    Cut down to its minute, or with up=True raised to the next one: the two ends of a bound
    ("between 09:14 and 09:15") then still contain the true times. When beside (another
    ledger time) falls on another day, the date is given too.
    """
    minute = int(unix_ns) // MINUTE_NS * MINUTE_NS
    if up and minute != int(unix_ns):
        minute += MINUTE_NS
    found, where = _locale(locale), _zone(zone)
    moment = _ns_moment(minute).astimezone(where)
    if beside is not None and _ns_moment(beside).astimezone(where).date() != moment.date():
        return datetime_(moment, locale=found, zone=where)
    return babel_dates.format_time(moment, "short", tzinfo=where, locale=found)


def zone_name(locale: str | Locale | None = None, zone: str | tzinfo | None = None) -> str:
    """Name the reader's time zone as people say it: 'Central European Time', 'heure d’Europe
    centrale' (CLDR's generic name, in the reader's language); UTC is 'UTC'."""
    where = _zone(zone)
    key = getattr(where, "key", None) or getattr(where, "zone", None) or str(where)
    if key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT") or key.startswith("Etc/"):
        return "UTC"
    return babel_dates.get_timezone_name(
        key, "long", zone_variant="generic", locale=_locale(locale)
    )


FILTERS = {
    "money": money,
    "percent": percent,
    "hours": hours,
    "datetime": datetime_,
    "date": date_,
    "month": month,
    "ns_time": ns_time,
    "ns_date": ns_date,
    "ns_clock": ns_clock,
}


def init_app(app) -> None:
    """Register the filters, once, for every template."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["zone_name"] = zone_name
