"""Board forms: the parameters form is generated from the fields of coop.params.Params."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from coop import formats
from coop.board.operations import PARAMETER_NAMES
from coop.money import parse_cents
from coop.params import BOUNDS, Params

MONEY, PERCENT, WHOLE = "money", "percent", "whole"

# Label and help text of each parameter; a parameter missing here still gets a field.
TEXTS = {
    "pay_floor_cents_per_hour": (
        _l("Pay floor (euros per hour)"),
        _l("No task may pay less than this for its estimated time."),
    ),
    "margin_bp": (
        _l("Coop margin (%)"),
        _l("The share of each task's price kept by the coop; members earn the rest."),
    ),
    "max_active_tasks": (
        _l("Active tasks per member"),
        _l("How many tasks a member may hold at once."),
    ),
    "weekly_hours_cap": (
        _l("Weekly hours cap"),
        _l("Estimated hours of work a member may take on in one week."),
    ),
    "sensitive_minutes_per_day": (
        _l("Sensitive content, minutes per day"),
        _l("Estimated minutes of sensitive tasks a member may take on in one day."),
    ),
    "review_window_hours": (
        _l("Review window (hours)"),
        _l("A delivery the client has not reviewed in this time is accepted."),
    ),
    "floor_check_min_answers": (
        _l("Project answers before the floor check"),
        _l("Once a project has this many answers, it pauses if the median measured time pays "
           "less than the floor."),
    ),
    "sensitive_break_minutes": (
        _l("Sensitive project work before a break (minutes)"),
        _l("After this much measured time on sensitive items in a row, a member takes a break."),
    ),
    "sensitive_pause_minutes": (
        _l("Break after sensitive work (minutes)"),
        _l("How long that break lasts before the next sensitive item."),
    ),
    "max_attempts": (
        _l("Attempts per task"),
        _l("How many times a member may deliver the same task."),
    ),
    "legal_reserve_bp": (
        _l("Legal reserve (percentage of the surplus)"),
        _l("At least 15% (Loi 78-763, art. 33)."),
    ),
    "work_share_bp": (
        _l("Work share (percentage of the surplus)"),
        _l("Shared among the workers; at least 25% (Loi 78-763, art. 33)."),
    ),
    "dividends_bp": (
        _l("Dividends (percentage of the surplus)"),
        _l("Paid on capital shares; never more than the work share."),
    ),
    "basis_earnings_pct": (
        _l("Work-share basis: earnings (%)"),
        _l("Weight of each member's earnings in the work share."),
    ),
    "basis_hours_pct": (
        _l("Work-share basis: hours (%)"),
        _l("Weight of each member's estimated hours in the work share."),
    ),
    "basis_equal_pct": (
        _l("Work-share basis: equal shares (%)"),
        _l("Weight of an equal share per member; the three weights add up to 100."),
    ),
    "rejection_review_rate_bp": (
        _l("Rejection rate sent to the board (%)"),
        _l(
            "When a client has rejected this share of the deliveries they reviewed, their "
            "further rejections wait for a board member to confirm or overturn them."
        ),
    ),
    "rejection_review_min_reviews": (
        _l("Reviews before the rejection rate applies"),
        _l("A client's rejection rate counts only once they have reviewed this many deliveries."),
    ),
    "client_storage_quota_mb": (
        _l("Storage per client (MiB)"),
        _l("What the files attached to one client's tasks may take in all."),
    ),
    "quality_threshold_max_bp": (
        _l("Highest accuracy threshold a client may set (%)"),
        _l("Below a project's threshold, a member stops receiving its items."),
    ),
    "quality_min_gold_answers": (
        _l("Fewest gold answers before a threshold applies"),
        _l("A client may ask more gold answers before judging a member, never fewer."),
    ),
    "fair_share_bp": (
        _l("Share of a project kept for members who worked less (%)"),
        _l("On a project with fair assignment, the last answers of this share go only to "
           "members below the hours below."),
    ),
    "fair_share_hours": (
        _l("Worked less: under this many hours this week"),
        _l("Hours of tasks taken and of project items answered since Monday."),
    ),
    "ordinary_quorum_bp": (
        _l("General assembly: quorum of an ordinary decision (% of members)"),
        _l("Ballots, abstentions included, needed for the vote to count; statutory default 25%."),
    ),
    "ordinary_majority_bp": (
        _l("General assembly: majority of an ordinary decision (% of votes cast)"),
        _l("Votes for must be more than this share of the votes cast (for and against); "
           "statutory default 50%, a majority."),
    ),
    "statutes_quorum_bp": (
        _l("General assembly: quorum of a change of the statutes (% of members)"),
        _l("Statutory default 50%."),
    ),
    "statutes_majority_bp": (
        _l("General assembly: majority of a change of the statutes (% of votes cast)"),
        _l("Votes for must be more than this share of the votes cast; the default 66.66% "
           "is two thirds."),
    ),
    "reapply_after_days": (
        _l("Days before a declined applicant may apply again"),
        _l("Counted from the day the board declined; 0 lets them apply again at once."),
    ),
    "fiscal_year_start_month": (
        _l("Fiscal year: first month (1 to 12)"),
        _l("The year's close decides the split of its result; fixed once a month is closed."),
    ),
    "work_share_advances": (
        _l("Advances on the work share each month (1: yes, 0: no)"),
        _l("If the statutes allow it, each closed month pays an advance on the year's work "
           "share."),
    ),
    "advance_rate_bp": (
        _l("Advance rate (% of the year-to-date work share)"),
        _l("Advances paid so far never exceed this share of the work share of the year's "
           "result to date, so a later loss month lowers what later months advance."),
    ),
}

_PERCENT = re.compile(r"^(\d{1,3})(?:[.,](\d{1,2}))?$")
_WHOLE = re.compile(r"^\d{1,9}$")


def kind_of(name: str) -> str:
    """Return how a parameter is shown: euros, percent (of basis points) or a whole number."""
    if "_cents" in name:
        return MONEY
    if name.endswith("_bp"):
        return PERCENT
    return WHOLE


def format_percent(basis_points: int) -> str:
    """Show basis points as percent with up to two decimals: 1500 → '15', 1525 → '15.25'."""
    whole, rest = divmod(int(basis_points), 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") if rest else str(whole)


def display(name: str, value: int) -> str:
    """Show a stored parameter value in the unit people type it in."""
    kind = kind_of(name)
    if kind == MONEY:
        return f"{value // 100}.{value % 100:02d}"
    if kind == PERCENT:
        return format_percent(value)
    return str(value)


def display_with_unit(name: str, value: int) -> str:
    """Show a value in the reader's language, with its unit: '€12.00', '15,00 %'."""
    kind = kind_of(name)
    if kind == MONEY:
        return formats.money(value)
    if kind == PERCENT:
        return formats.percent(value)
    return str(value)


def parse(name: str, text: str) -> int:
    """Parse what a person typed into the stored integer; raise ValueError with a message."""
    text = (text or "").strip()
    if text.startswith("-"):
        raise ValueError(_l("Must not be negative."))
    kind = kind_of(name)
    if kind == MONEY:
        try:
            return parse_cents(text)
        except ValueError:
            raise ValueError(_l("Enter an amount in euros, such as 12.00."))
    if kind == PERCENT:
        match = _PERCENT.match(text)
        if not match:
            raise ValueError(_l("Enter a percentage with at most two decimals, such as 15.5."))
        return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if not _WHOLE.match(text):
        raise ValueError(_l("Enter a whole number, such as 3."))
    return int(text)


class ParametersForm(FlaskForm):
    """Every board parameter as a text field, in the unit people think in."""

    def fill(self, params: Params) -> None:
        """Show the given parameters (on a GET)."""
        for name in PARAMETER_FIELDS:
            self[name].data = display(name, getattr(params, name))

    def parameter_fields(self) -> list:
        return [self[name] for name in PARAMETER_FIELDS]

    def values(self) -> dict[str, int] | None:
        """Return the parsed values, or None after putting an error on each bad field."""
        values = {}
        for name in PARAMETER_FIELDS:
            field = self[name]
            field.errors = list(field.errors)
            try:
                value = parse(name, field.data)
            except ValueError as error:
                field.errors.append(str(error.args[0]))
                continue
            low, high = BOUNDS.get(name, (0, None))
            if value < low or (high is not None and value > high):
                field.errors.append(
                    str(
                        _l(
                            "Must be between %(low)s and %(high)s.",
                            low=display_with_unit(name, low),
                            high=display_with_unit(name, high),
                        )
                    )
                )
                continue
            values[name] = value
        return None if len(values) < len(PARAMETER_FIELDS) else values

    def add_errors(self, errors: dict[str, str]) -> None:
        """Put each rule's message on its field (a message for no field goes on the form)."""
        for name, message in errors.items():
            if name in PARAMETER_FIELDS:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)


PARAMETER_FIELDS = PARAMETER_NAMES

for _name in PARAMETER_FIELDS:
    _label, _help = TEXTS.get(_name, (_name.replace("_", " ").capitalize(), ""))
    setattr(ParametersForm, _name, StringField(_label, description=_help))
