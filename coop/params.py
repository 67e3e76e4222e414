"""The coop's parameters, set by the board: defaults, bounds, rules and reading."""

from dataclasses import asdict, dataclass, fields

from flask_babel import gettext as _

from coop import formats
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
    # Projects: answers before the floor is checked on the median measured time; sensitive
    # work before a break is asked for, and how long the break lasts.
    floor_check_min_answers: int = 20
    sensitive_break_minutes: int = 25
    sensitive_pause_minutes: int = 5
    max_attempts: int = 3
    # Surplus split (SCOP defaults, Loi 78-763 art. 33); the development reserve is the rest.
    legal_reserve_bp: int = 1500
    work_share_bp: int = 4500
    dividends_bp: int = 1000
    # Work-share basis as a weighted mix in percent (earnings, hours, equal shares); sum 100.
    basis_earnings_pct: int = 100
    basis_hours_pct: int = 0
    basis_equal_pct: int = 0
    # A client who rejects this share of their reviews (after enough reviews) has each further
    # rejection held for the board before it takes effect.
    rejection_review_rate_bp: int = 3000
    rejection_review_min_reviews: int = 10
    # What a client's task attachments may take in the file store, in MiB.
    client_storage_quota_mb: int = 2048
    # Quality: the highest gold-accuracy threshold a client may set on a project, and the
    # fewest gold answers a client may ask before the threshold applies.
    quality_threshold_max_bp: int = 8000
    quality_min_gold_answers: int = 10
    # Fair assignment: on a project that asks for it, the last share of its answers goes only
    # to members who have worked fewer than fair_share_hours this week.
    fair_share_bp: int = 2000
    fair_share_hours: int = 10
    # The general assembly (statutory defaults for a SCOP): an ordinary decision needs a
    # quarter of the members to vote and more than half of the votes cast; a change of the
    # statutes needs half of the members and two thirds of the votes cast (more than 66.66%).
    ordinary_quorum_bp: int = 2500
    ordinary_majority_bp: int = 5000
    statutes_quorum_bp: int = 5000
    statutes_majority_bp: int = 6666
    # Days a declined applicant waits before applying again (0: at once).
    reapply_after_days: int = 90
    # The fiscal year starts on the 1st of this month (1-12); the year's close decides the
    # split. Months pay advances on the work share (1: yes, 0: no): at most this share of the
    # work share of the year-to-date result, less the advances already paid.
    fiscal_year_start_month: int = 1
    work_share_advances: int = 1
    advance_rate_bp: int = 5000

    @property
    def development_reserve_bp(self) -> int:
        return 10000 - self.legal_reserve_bp - self.work_share_bp - self.dividends_bp

    def as_dict(self) -> dict:
        return asdict(self)


# (minimum, maximum) for each parameter: anything outside is refused with these bounds.
BOUNDS = {
    "pay_floor_cents_per_hour": (100, 100_000),
    "margin_bp": (0, 5000),
    "max_active_tasks": (1, 50),
    "weekly_hours_cap": (1, 80),
    "sensitive_minutes_per_day": (0, 480),
    "review_window_hours": (1, 24 * 30),
    "floor_check_min_answers": (1, 100_000),
    "sensitive_break_minutes": (5, 240),
    "sensitive_pause_minutes": (1, 60),
    "max_attempts": (1, 10),
    "legal_reserve_bp": (0, 10000),
    "work_share_bp": (0, 10000),
    "dividends_bp": (0, 10000),
    "basis_earnings_pct": (0, 100),
    "basis_hours_pct": (0, 100),
    "basis_equal_pct": (0, 100),
    "rejection_review_rate_bp": (500, 10000),
    "rejection_review_min_reviews": (1, 1000),
    "client_storage_quota_mb": (1, 1_000_000),
    "quality_threshold_max_bp": (0, 10000),
    "quality_min_gold_answers": (1, 1000),
    "fair_share_bp": (0, 5000),
    "fair_share_hours": (1, 80),
    "ordinary_quorum_bp": (0, 10000),
    "ordinary_majority_bp": (5000, 9999),
    "statutes_quorum_bp": (0, 10000),
    "statutes_majority_bp": (5000, 9999),
    "reapply_after_days": (0, 3650),
    "fiscal_year_start_month": (1, 12),
    "work_share_advances": (0, 1),
    "advance_rate_bp": (0, 10000),
}


def rule_violations(params: Params) -> dict[str, str]:
    """Return {field: message quoting the rule} for each rule the parameters break."""
    problems = {}
    for name, (low, high) in BOUNDS.items():
        value = getattr(params, name)
        if not low <= value <= high:
            problems[name] = _("Must be between %(low)s and %(high)s.", low=low, high=high)
    if params.legal_reserve_bp < 1500:
        problems["legal_reserve_bp"] = _(
            "Loi 78-763, art. 33: at least 15% of the surplus goes to the legal reserve."
        )
    if params.work_share_bp < 2500:
        problems["work_share_bp"] = _(
            "Loi 78-763, art. 33: the work share is at least 25% of the surplus."
        )
    if params.dividends_bp > params.work_share_bp:
        problems["dividends_bp"] = _(
            "Loi 78-763, art. 33: dividends may never exceed the work share."
        )
    reserves_bp = params.legal_reserve_bp + params.development_reserve_bp
    if params.dividends_bp > reserves_bp and params.development_reserve_bp >= 0:
        rule = _(
            "Loi 78-763, art. 33: capital remuneration may never exceed the reserves allocated "
            "for the period (here %(reserves)s).",
            reserves=formats.percent(reserves_bp),
        )
        problems["dividends_bp"] = " ".join(filter(None, [problems.get("dividends_bp"), rule]))
    if params.development_reserve_bp < 0:
        problems["dividends_bp"] = _("The reserves, work share and dividends exceed 100%.")
    if params.statutes_majority_bp < params.ordinary_majority_bp:
        problems["statutes_majority_bp"] = _(
            "A change of the statutes needs at least the majority of an ordinary decision."
        )
    if params.basis_earnings_pct + params.basis_hours_pct + params.basis_equal_pct != 100:
        problems["basis_equal_pct"] = _("The work-share basis weights must add up to 100%.")
    return problems


def current() -> Params:
    """Return the parameters in force: stored values over the defaults."""
    names = {f.name for f in fields(Params)}
    stored = {p.key: int(p.value) for p in Parameter.select() if p.key in names}
    return Params(**stored)
