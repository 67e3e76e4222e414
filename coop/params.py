"""The coop's parameters, set by the board: defaults, validation and reading."""

from dataclasses import dataclass, fields

from coop.models import Parameter


@dataclass(frozen=True)
class Params:
    """Every board parameter as an integer: cents, minutes, hours, counts or basis points."""

    pay_floor_cents_per_hour: int = 1200
    margin_bp: int = 800
    max_active_tasks: int = 3
    weekly_hours_cap: int = 40
    sensitive_minutes_per_day: int = 120
    review_window_hours: int = 72
    max_attempts: int = 3


# (minimum, maximum) for each parameter: anything outside is refused with these bounds.
BOUNDS = {
    "pay_floor_cents_per_hour": (100, 100_000),
    "margin_bp": (0, 5000),
    "max_active_tasks": (1, 50),
    "weekly_hours_cap": (1, 80),
    "sensitive_minutes_per_day": (0, 480),
    "review_window_hours": (1, 24 * 30),
    "max_attempts": (1, 10),
}


def current() -> Params:
    """Return the parameters in force: stored values over the defaults."""
    names = {f.name for f in fields(Params)}
    stored = {p.key: int(p.value) for p in Parameter.select() if p.key in names}
    return Params(**stored)
