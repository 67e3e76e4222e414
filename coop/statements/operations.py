"""Month close and statements: gather the month from the ledger, freeze it, issue the PDFs.

The figures of a closed month are computed once, frozen as JSON with their SHA-256 on the
ledger (`period.closed`), and every issued PDF's SHA-256 goes on the ledger too
(`statement.issued`). Drafts are computed on demand, marked provisional and never recorded.
"""

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import peewee
from flask import current_app
from flask_babel import gettext as _

from coop import calendar, jobs
from coop import params as coop_params
from coop.audit import events
from coop.auth.roles import require_board_or_operator as _require_board
from coop.capital import operations as capital
from coop.db import write_transaction
from coop.errors import Conflict, DomainError, Forbidden, NotFound, Unavailable
from coop.labels import PROJECT_ANSWERS
from coop.models import (
    CapitalMovement,
    Event,
    Job,
    JobKind,
    MemberStatus,
    Role,
    Task,
    User,
    utcnow,
)
from coop.models import Earning as EarningModel
from coop.statements import years
from coop.statements.allocation import (
    Holder,
    MemberFigures,
    TaskLine,
    Work,
    compute_month,
    leftover_order,
)
from coop.statements.annual import MonthResult, month_advances, year_period
from coop.statements.models import Expense, Period, Statement
from coop.statements.render import (
    Bar,
    Checkpoint,
    StatementValues,
    canonical_json,
    render_jobs,
    statement_job,
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_EXPENSE_CENTS = 100_000_000_00


# -- months and time ---------------------------------------------------------------------


def parse_month(text: str) -> str:
    """Return text if it names a month as YYYY-MM (2000-01 to 2999-12); else raise NotFound."""
    match = _MONTH.match(text or "")
    if not match or not 2000 <= int(match[1]) <= 2999 or not 1 <= int(match[2]) <= 12:
        raise NotFound(_("%(month)s is not a month written as YYYY-MM.", month=str(text)[:20]))
    return text


def _tz() -> ZoneInfo:
    return calendar.coop_zone()


def month_bounds(month: str) -> tuple[int, int]:
    """Return the month's [start, end) in unix nanoseconds, in the coop's timezone."""
    span = calendar.month_span(month)
    return span.start_ns, span.end_ns


def current_month(now: datetime | None = None) -> str:
    """Return the month in progress in the coop's timezone (now is naive UTC)."""
    return calendar.month_key(now or utcnow())


def _now_ns(now: datetime | None) -> int:
    return calendar.unix_ns(now or utcnow())


# -- gathering and computing -------------------------------------------------------------


def _lines(month: str) -> list[TaskLine]:
    """Return the month's completed tasks and accepted answers, dated by the ledger."""
    start, end = month_bounds(month)
    times = events.completion_times(start, end)
    by_task = {task_id: (index, ns) for task_id, index, ns in times}
    rows = (
        EarningModel.select(EarningModel, Task)
        .join(Task)
        .where(EarningModel.task.in_(list(by_task) or [0]))
        .order_by(EarningModel.task)
    )
    lines = []
    for earning in rows:
        index, unix_ns = by_task[earning.task_id]
        lines.append(
            TaskLine(
                task_id=earning.task_id,
                member_id=earning.member_id,
                ledger_index=index,
                unix_ns=unix_ns,
                category=earning.task.category,
                minutes=earning.task.estimated_minutes,
                price_cents=earning.price_cents,
                earnings_cents=earning.earnings_cents,
                margin_cents=earning.margin_cents,
            )
        )
    lines.extend(_answer_lines(start, end))
    lines.sort(key=lambda line: (line.unix_ns, line.task_id, line.project_id or 0))
    return lines


def _answer_lines(start: int, end: int) -> list[TaskLine]:
    """Return one line per member and project for answers credited in [start, end).

    Like tasks, answers count in the month their acceptance was put on the ledger; the line
    carries the last such entry, and the measured minutes of the answers.
    """
    from coop.projects.models import Answer, AnswerEarning, EarningKind

    # A top-up adds money to an answer already counted: neither another answer nor its time.
    # A clawback (an upheld fraud finding) takes back the answer, its time and all its pay, in
    # the month of the finding: a closed month is never edited.
    once = AnswerEarning.kind == EarningKind.ANSWER
    back = AnswerEarning.kind == EarningKind.CLAWBACK
    rows = (
        AnswerEarning.select(
            AnswerEarning.member,
            AnswerEarning.project,
            peewee.fn.SUM(peewee.Case(None, [(once, 1), (back, -1)], 0)),
            peewee.fn.SUM(AnswerEarning.price_cents),
            peewee.fn.SUM(AnswerEarning.earnings_cents),
            peewee.fn.SUM(AnswerEarning.margin_cents),
            peewee.fn.SUM(peewee.Case(None, [(once, Answer.seconds), (back, Answer.seconds * -1)],
                                      0)),
            peewee.fn.MAX(AnswerEarning.ledger_index),
            peewee.fn.MAX(AnswerEarning.unix_ns),
        )
        .join(Answer, on=(AnswerEarning.answer == Answer.id))
        .where((AnswerEarning.unix_ns >= start) & (AnswerEarning.unix_ns < end))
        .group_by(AnswerEarning.member, AnswerEarning.project)
        .tuples()
    )
    return [
        TaskLine(
            task_id=0,
            member_id=member,
            ledger_index=index,
            unix_ns=int(unix_ns),
            category=PROJECT_ANSWERS,
            minutes=int(seconds or 0) // 60 if (seconds or 0) >= 0 else -(-int(seconds) // 60),
            price_cents=int(price),
            earnings_cents=int(earned),
            margin_cents=int(margin),
            project_id=project,
            answers=int(count),
        )
        for member, project, count, price, earned, margin, seconds, index, unix_ns in rows
    ]


def _holders(month: str) -> list[Holder]:
    """Return the active members who held capital during the month, time-weighted."""
    return holders_between(*month_bounds(month))


def holders_between(start: int, end: int) -> list[Holder]:
    """Return the active members who held capital during [start, end), time-weighted."""
    moved = CapitalMovement.select(CapitalMovement.member).where(CapitalMovement.unix_ns >= start)
    rows = User.select(User.id).where(
        User.role.in_([Role.MEMBER, Role.BOARD])
        & (User.member_status == MemberStatus.ACTIVE)
        & ((User.capital_cents > 0) | User.id.in_(moved))
    )
    held = capital.held_during(start, end, [u.id for u in rows])
    return [Holder(m, h.average_cents, h.weight) for m, h in sorted(held.items()) if h.weight > 0]


def _legal_reserve_before(month: str) -> int:
    rows = Period.select(Period.totals).where(Period.month < month)
    return sum(p.totals_data["legal_reserve_cents"] for p in rows)


def expenses_for(month: str) -> list[Expense]:
    return list(Expense.select().where(Expense.month == month).order_by(Expense.id))


def _loss_brought(month: str) -> int:
    """Return the loss the month brings: the year before's for a fiscal year's first month.

    The year decides: a year's months may have carried a loss from month to month that the
    year as a whole made up, so the first month of a year brings the loss the year before
    carried once closed, not its last month's.
    """
    start = coop_params.current().fiscal_year_start_month
    if years.is_first_month(month, start):
        before = years.closed_year(years.fiscal_year_of(month, start) - 1)
        if before is not None:
            return before.totals_data["loss_carried_cents"]
    previous = (
        Period.select().where(Period.month < month).order_by(Period.month.desc()).first()
    )
    return previous.totals_data["loss_carried_cents"] if previous else 0


@dataclass(frozen=True)
class MonthData:
    """A month's figures with what the statements show beside them."""

    month: str
    figures: dict  # {"totals": ..., "members": [...], "expenses": [...]}
    tasks_by_member: dict  # member id -> [task dicts]
    pseudonyms: dict  # member id -> pseudonym


def _task_dict(line: TaskLine) -> dict:
    row = {
        "task_id": line.task_id,
        "ledger_index": line.ledger_index,
        "unix_ns": line.unix_ns,
        "category": line.category,
        "minutes": line.minutes,
        "price_cents": line.price_cents,
        "earnings_cents": line.earnings_cents,
    }
    if line.project_id is not None:
        row.update(project_id=line.project_id, answers=line.answers)
    return row


def compute(month: str) -> MonthData:
    """Compute a month's figures from the ledger and the database as they are now."""
    lines = _lines(month)
    expenses = expenses_for(month)
    holders = _holders(month)
    ids = {line.member_id for line in lines} | {h.member_id for h in holders}
    people = {u.id: u for u in User.select(User.id, User.pseudonym).where(
        User.id.in_(list(ids) or [0]))}
    figures = compute_month(
        lines,
        holders,
        sum(e.amount_cents for e in expenses),
        _loss_brought(month),
        coop_params.current(),
        order=leftover_order(month, {i: p.pseudonym for i, p in people.items()}),
        highest_capital_cents=capital.highest_capital(month_bounds(month)[1]),
        legal_reserve_before_cents=_legal_reserve_before(month),
    )
    tasks: dict[int, list] = {}
    for line in lines:
        tasks.setdefault(line.member_id, []).append(_task_dict(line))
    advances = _advances(month, figures)
    members = []
    for m in figures.members:
        advance = advances.get(m.member_id, 0)
        members.append({**m.as_dict(), "pseudonym": people[m.member_id].pseudonym,
                        "advance_cents": advance, "paid_cents": m.earnings_cents + advance})
    return MonthData(
        month=month,
        figures={
            "totals": figures.totals.as_dict(),
            "members": members,
            "expenses": [{"label": e.label, "amount_cents": e.amount_cents} for e in expenses],
        },
        tasks_by_member=tasks,
        pseudonyms={i: p.pseudonym for i, p in people.items()},
    )


def _advances(month: str, figures) -> dict[int, int]:
    """Return {member id: advance on the work share} the month pays (see annual.advance).

    The year to date is the fiscal year's closed months before this one and this month; what
    they advanced already comes off. A member who did no work this month may still be owed
    one, if the year to date now gives them more.
    """
    params = coop_params.current()
    if not params.work_share_advances:
        return {}
    start = params.fiscal_year_start_month
    year = years.fiscal_year_of(month, start)
    before = years.closed_months([m for m in years.year_months(year, start) if m < month])
    t = figures.totals
    this = MonthResult(month, t.margins_cents, t.expenses_cents, {
        m.member_id: Work(m.tasks, m.minutes, m.gross_cents, m.earnings_cents)
        for m in figures.members if m.tasks > 0
    })
    so_far = [years.month_result(p, sts) for p, sts in before] + [this]
    ids = {m for r in so_far for m in r.work}
    names = {u.id: u.pseudonym for u in User.select(User.id, User.pseudonym).where(
        User.id.in_(list(ids) or [0]))}
    paid = years.advances_paid(before)
    advances = month_advances(so_far, years.loss_brought(year), paid, params,
                              order=leftover_order(year_period(year), names))
    # Only members with a statement this month can be paid in it; the others' advance waits
    # for a month they have one (a month's statements are its workers and capital holders).
    on_statement = {m.member_id for m in figures.members}
    return {m: cents for m, cents in advances.items() if cents and m in on_statement}


# A draft month computed once serves every member's draft until anything it reads changes.
_CACHE = "coop.month_cache"
CACHED_MONTHS = 4


def _inputs_version(month: str) -> tuple:
    """Return a cheap fingerprint of what `compute(month)` reads.

    Every completed task, parameter change, capital movement and close appends to the ledger,
    so its size moves with them; expenses are not on the ledger, and rows made outside the
    operations (imports, tests) may not be either, so their own counts are in the key too.
    """
    from coop.audit.ledger import get_ledger
    from coop.models import Parameter

    expenses = Expense.select(peewee.fn.COUNT(Expense.id), peewee.fn.MAX(Expense.id),
                              peewee.fn.SUM(Expense.amount_cents)).where(Expense.month == month)
    people = User.select(peewee.fn.COUNT(User.id), peewee.fn.SUM(User.capital_cents))
    return (
        get_ledger().size(),
        Event.select(peewee.fn.MAX(Event.id)).scalar(),
        EarningModel.select(peewee.fn.MAX(EarningModel.id)).scalar(),
        CapitalMovement.select(peewee.fn.MAX(CapitalMovement.id)).scalar(),
        Period.select(peewee.fn.MAX(Period.id)).scalar(),
        tuple(expenses.tuples().first()),
        tuple(people.tuples().first()),
        tuple(Parameter.select(Parameter.key, Parameter.value).order_by(Parameter.key).tuples()),
    )


def compute_cached(month: str) -> MonthData:
    """Return `compute(month)`, reusing the last computation while its inputs are unchanged.

    For drafts only: a closed month's figures are frozen in its Period and never recomputed.
    """
    cache = current_app.extensions.setdefault(_CACHE, {})
    version = _inputs_version(month)
    hit = cache.get(month)
    if hit is not None and hit[0] == version:
        return hit[1]
    data = compute(month)
    if month not in cache and len(cache) >= CACHED_MONTHS:
        cache.pop(next(iter(cache)))  # the month cached first
    cache[month] = (version, data)
    return data


def totals_sha256(totals: dict) -> str:
    return hashlib.sha256(canonical_json(totals)).hexdigest()


# -- expenses and closing ----------------------------------------------------------------


def _refuse_if_closed(month: str) -> None:
    if Period.select().where(Period.month == month).exists():
        raise Conflict(_("%(month)s is closed: its figures are final.", month=month))


def _checked_expense(label: str, amount_cents: int) -> str:
    """Return the label trimmed, or raise DomainError naming the bad field."""
    label = (label or "").strip()
    if not label or len(label) > 120:
        raise DomainError(_("Give the expense a label of 1 to 120 characters."), "label")
    if not 0 < amount_cents <= MAX_EXPENSE_CENTS:
        raise DomainError(
            _("An expense is between €0.01 and %(max)s.", max="€100,000,000.00"), "amount"
        )
    return label


def add_expense(actor: User | None, month: str, label: str, amount_cents: int) -> Expense:
    """Enter an operating expense for a month that is not closed yet."""
    _require_board(actor)
    month = _viewable_month(month, None)
    label = _checked_expense(label, amount_cents)
    with write_transaction():
        _refuse_if_closed(month)
        return Expense.create(month=month, label=label, amount_cents=amount_cents,
                              created_by=actor)


def correct_expense(actor: User | None, expense: Expense, label: str, amount_cents: int) -> (
    Expense
):
    """Correct an expense of a month not closed yet (once closed, its figures are final)."""
    _require_board(actor)
    label = _checked_expense(label, amount_cents)
    with write_transaction():
        _refuse_if_closed(expense.month)
        Expense.update(label=label, amount_cents=amount_cents).where(
            Expense.id == expense.id
        ).execute()
    return Expense.get_by_id(expense.id)


def delete_expense(actor: User | None, expense: Expense) -> None:
    """Remove an expense entered by mistake, while its month is not closed."""
    _require_board(actor)
    with write_transaction():
        _refuse_if_closed(expense.month)
        Expense.delete().where(Expense.id == expense.id).execute()


def close_refusal(month: str, now: datetime | None = None) -> str | None:
    """Return why month cannot close now, or None if it can (close_month checks again).

    :raises NotFound: the month is before the coop or too far ahead to have a page.
    """
    month = _viewable_month(month, now)
    if Period.select().where(Period.month == month).exists():
        return _("%(month)s is closed: its figures are final.", month=month)
    if _now_ns(now) < month_bounds(month)[1]:
        return _("%(month)s has not ended yet (coop time zone %(tz)s); preview a draft instead.",
                 month=month, tz=str(_tz()))
    first_open = first_open_month()
    if first_open is not None and month != first_open:
        return _("Months close in order: %(first)s is the next month to close.", first=first_open)
    return year_refusal(month)


def year_refusal(month: str) -> str | None:
    """Return why a fiscal year's first month must wait for the year before to close, or None.

    The year before decides the loss this month brings forward (and its members' advances
    start again from nothing), so its close comes first.
    """
    start = coop_params.current().fiscal_year_start_month
    if not years.is_first_month(month, start):
        return None
    before = years.fiscal_year_of(month, start) - 1
    if years.closed_year(before) is not None:
        return None
    if not Period.select().where(Period.month.in_(years.year_months(before, start))).exists():
        return None  # the coop had no closed month then: nothing to close
    return _("Close the fiscal year %(year)s first: %(month)s opens the next one.",
             year=before, month=month)


def first_open_month() -> str | None:
    """Return the only month that may close next, or None if nothing has happened yet.

    That is the month after the last closed one; before any close, the month of the coop's
    first completed task or first expense. A month left open would otherwise never close and
    its surplus never be shared, since months close in order.
    """
    last = Period.select(peewee.fn.MAX(Period.month)).scalar()
    if last:
        return calendar.shift_month(last, 1)
    first_ns = events.first_completion_ns()
    candidates = [m for m in (Expense.select(peewee.fn.MIN(Expense.month)).scalar(),) if m]
    if first_ns is not None:
        first = datetime.fromtimestamp(first_ns / 10**9, ZoneInfo("UTC"))
        candidates.append(first.astimezone(_tz()).strftime("%Y-%m"))
    return min(candidates) if candidates else None


def close_month(actor: User | None, month: str, now: datetime | None = None) -> Period:
    """Close a finished month: freeze its figures and record `period.closed` with their hash.

    :raises DomainError: the month has not ended, or it is not the first open month.
    :raises Conflict: the month is already closed.
    """
    _require_board(actor)
    month = _viewable_month(month, now)
    _start, end = month_bounds(month)
    if _now_ns(now) < end:
        raise DomainError(
            _("%(month)s has not ended yet (coop time zone %(tz)s); preview a draft instead.",
              month=month, tz=str(_tz()))
        )
    from coop.audit.ledger import publish_checkpoint

    with write_transaction():
        _refuse_if_closed(month)
        first_open = first_open_month()
        if first_open is not None and month != first_open:
            raise DomainError(
                _("Months close in order: %(first)s is the next month to close.",
                  first=first_open)
            )
        refusal = year_refusal(month)
        if refusal is not None:
            raise DomainError(refusal)
        data = compute(month)
        totals = data.figures["totals"]
        digest = totals_sha256(totals)
        try:
            period = Period.create(
                month=month,
                closed_by=actor,
                totals=canonical_json(totals).decode(),
                totals_sha256=digest,
            )
        except peewee.IntegrityError:
            # Another board member closed it between our check and our insert (PostgreSQL).
            raise Conflict(_("%(month)s is closed: its figures are final.", month=month))
        for member in data.figures["members"]:
            Statement.create(
                period=period,
                member=member["member_id"],
                figures=canonical_json(
                    {"figures": member, "tasks": data.tasks_by_member.get(member["member_id"], [])}
                ).decode(),
            )
        events.record(
            "period.closed",
            f"period:{month}",
            month=month,
            totals_sha256=digest,
            surplus_cents=totals["surplus_cents"],
            loss_carried_cents=totals["loss_carried_cents"],
            members=len(data.figures["members"]),
        )
    # The closing checkpoint is published once the close has committed (a checkpoint signed
    # inside the transaction would be a write racing every other publisher), then kept with it.
    checkpoint = publish_checkpoint()
    with write_transaction():
        Period.update(
            checkpoint_size=checkpoint.size,
            checkpoint_root=checkpoint.root_b64,
            checkpoint_note=checkpoint.note,
        ).where(Period.id == period.id).execute()
    period.checkpoint_size = checkpoint.size
    period.checkpoint_root = checkpoint.root_b64
    period.checkpoint_note = checkpoint.note
    return period


# -- statement values --------------------------------------------------------------------


def closed_period(month: str) -> Period | None:
    """Return the month's period if it is closed."""
    return Period.get_or_none(Period.month == month)


_closed = closed_period


def _member_history(member_id: int, month: str, this_total: int) -> tuple[list[Bar], int]:
    """Return the member's last twelve months (closed ones; this one as given) and YTD."""
    months = [calendar.shift_month(month, -i) for i in range(11, 0, -1)]
    rows = (
        Statement.select(Statement.figures, Period.month)
        .join(Period)
        .where(
            (Statement.member == member_id)
            & (Period.month >= min(months[0], f"{month[:4]}-01"))
            & (Period.month < month)
        )
    )
    totals = {r.period.month: r.figures_data["figures"]["total_cents"] for r in rows}
    bars = [Bar(m, totals.get(m, 0)) for m in months] + [Bar(month, this_total)]
    ytd = this_total + sum(v for m, v in totals.items() if m[:4] == month[:4])
    return bars, ytd


def _own_result(totals: dict) -> int:
    """Return a month's own result: its margins less its expenses (a loss is negative)."""
    return totals["margins_cents"] - totals["expenses_cents"]


def _result_history(month: str, totals: dict) -> list[Bar]:
    """Return the last twelve months' own results (closed ones; this one as given).

    Not the surplus, which is never below zero, nor the income, which carries the losses
    brought forward: a month that lost money shows as the loss it made.
    """
    months = [calendar.shift_month(month, -i) for i in range(11, 0, -1)]
    closed = {p.month: _own_result(p.totals_data)
              for p in Period.select().where(Period.month.in_(months))}
    return [Bar(m, closed.get(m, 0)) for m in months] + [Bar(month, _own_result(totals))]


def _checkpoint(period: Period | None) -> Checkpoint | None:
    if period is None or period.checkpoint_size is None:
        return None
    return Checkpoint(period.checkpoint_size, period.checkpoint_root, period.checkpoint_note)


def _closing_entry(month: str) -> Event | None:
    closing = [e for e in events.events_for(f"period:{month}") if e.kind == "period.closed"]
    return closing[-1] if closing else None


def statement_number(month: str, member_id: int | None = None) -> str:
    """Return an issued statement's number: the month and the member's id ("2025-03-0042"),
    or "2025-03-board" for the summary (as its `statement.issued` subject says).

    Derived, never counted: one statement per member and month, so it is unique, and a
    re-rendering gets the same number.
    """
    return f"{month}-board" if member_id is None else f"{month}-{member_id:04d}"


def _frozen(period: Period) -> MonthData:
    """Rebuild a closed month's data from the frozen rows, never from today's tables."""
    statements = list(
        Statement.select(Statement, User).join(User).where(Statement.period == period)
    )
    members, tasks = [], {}
    for st in sorted(statements, key=lambda s: s.member_id):
        stored = st.figures_data
        members.append(stored["figures"])
        tasks[st.member_id] = stored["tasks"]
    return MonthData(
        month=period.month,
        figures={
            "totals": period.totals_data,
            "members": members,
            "expenses": [{"label": e.label, "amount_cents": e.amount_cents}
                         for e in expenses_for(period.month)],
        },
        tasks_by_member=tasks,
        pseudonyms={st.member_id: st.member.pseudonym for st in statements},
    )


def _document_date(month: str) -> str:
    """Return the end of the month (coop time zone) in UTC: the date its PDFs carry."""
    end = datetime.fromtimestamp(month_bounds(month)[1] // 10**9, ZoneInfo("UTC"))
    return end.strftime("%Y-%m-%dT%H:%M:%SZ")


def _coop_identity() -> dict:
    config = current_app.config
    return {"name": config["COOP_NAME"], "registration": config["COOP_REGISTRATION"],
            "address": config["COOP_ADDRESS"]}


def _common(month: str, period: Period | None, locale: str) -> dict:
    # Everything the PDF shows is in its attached JSON: StatementValues.from_data rebuilds the
    # statement from it alone, so anyone can re-render it and check its hash on the ledger.
    checkpoint = _checkpoint(period)
    closing = _closing_entry(month) if period else None
    return {
        "month": month,
        "locale": locale,
        "timezone": str(_tz()),
        "document_date": _document_date(month),
        "draft": period is None,
        "coop": _coop_identity(),
        # Issued on the day the ledger recorded the close (coop time zone); a draft is not.
        "issued_on": datetime.fromtimestamp(closing.unix_ns / 1e9, _tz()).date().isoformat()
        if closing else None,
        "totals_sha256": period.totals_sha256 if period else None,
        "period_ledger_index": closing.ledger_index if closing else None,
        "checkpoint": (
            {"size": checkpoint.size, "root": checkpoint.root_b64, "note": checkpoint.note}
            if checkpoint else None
        ),
    }


def _bars(bars: list[Bar]) -> list[dict]:
    return [{"label": b.label, "cents": b.cents} for b in bars]


def _zero_figures(member: User) -> dict:
    zero = MemberFigures(member.id, 0, 0, 0, 0, 0, 0, member.capital_cents)
    return {**zero.as_dict(), "pseudonym": member.pseudonym, "advance_cents": 0, "paid_cents": 0}


def share_inputs(figures: dict, month: dict) -> dict:
    """Return what the member's share was computed from, so they can redo the sums.

    For each key of the work share in force (earnings, hours, equal shares, by their weights):
    its pot, the member's figure and the coop's total under it; then the capital the member
    held during the period (time-weighted) against the total, for the dividend.
    """
    totals, members = month["totals"], month["members"]
    basis = totals["basis_pct"]
    worked = figures["tasks"] > 0
    keys = [
        ("earnings", totals["work_share_earnings_cents"], figures["earnings_cents"],
         totals["earnings_cents"]),
        ("hours", totals["work_share_hours_cents"], figures["minutes"], totals["minutes"]),
        ("equal", totals["work_share_equal_cents"], 1 if worked else 0,
         sum(1 for m in members if m["tasks"] > 0)),
    ]
    return {
        "keys": [
            {"key": key, "weight_pct": basis.get(key, 0), "pot_cents": pot, "member": mine,
             "coop": total}
            for key, pot, mine, total in keys if basis.get(key, 0)
        ],
        "work_share_pot_cents": totals["work_share_cents"],
        "work_share_cents": figures["work_share_cents"],
        "capital_cents": figures["capital_cents"],
        "total_capital_cents": sum(m["capital_cents"] for m in members),
        "dividends_pot_cents": totals["dividends_cents"],
        "dividend_cents": figures["dividend_cents"],
        "ledger_url": current_app.config["BASE_URL"] + "/ledger",
    }


def member_values(data: MonthData, member: User, period: Period | None, locale: str) -> (
    StatementValues
):
    """Return the values of one member's statement for the month."""
    figures = next(
        (m for m in data.figures["members"] if m["member_id"] == member.id), None
    ) or _zero_figures(member)
    history, ytd = _member_history(member.id, data.month, figures["total_cents"])
    return StatementValues.from_data({
        "kind": "member",
        **_common(data.month, period, locale),
        "number": statement_number(data.month, member.id) if period else None,
        "member": {"id": member.id, "pseudonym": member.pseudonym, "name": member.name},
        "figures": figures,
        "tasks": data.tasks_by_member.get(member.id, []),
        "totals": data.figures["totals"],
        "share_inputs": share_inputs(figures, data.figures),
        "year_to_date_cents": ytd,
        "history": _bars(history),
    })


def board_values(data: MonthData, period: Period | None, locale: str) -> StatementValues:
    """Return the values of the board's summary for the month."""
    totals = data.figures["totals"]
    return StatementValues.from_data({
        "kind": "board",
        **_common(data.month, period, locale),
        "number": statement_number(data.month) if period else None,
        "totals": totals,
        "members": data.figures["members"],
        "expenses": data.figures["expenses"],
        "history": _bars(_result_history(data.month, totals)),
        "categories": _bars([Bar(c, v) for c, v in totals["earnings_by_category"].items()]),
    })


# -- issuing -----------------------------------------------------------------------------


def _pdf_dir() -> Path:
    folder = Path(current_app.config["INSTANCE_DIR"]) / "statements"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store_pdf(pdf: bytes) -> str:
    """Keep a PDF content-addressed under the instance folder; return its SHA-256."""
    sha = hashlib.sha256(pdf).hexdigest()
    path = _pdf_dir() / f"{sha}.pdf"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pdf)
        tmp.replace(path)
    return sha


def _load_pdf(sha: str) -> bytes:
    return (_pdf_dir() / f"{sha}.pdf").read_bytes()


def _member_locale(member: User) -> str:
    languages = current_app.config["LANGUAGES"]
    return member.locale if member.locale in languages else current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def issue_statements(period: Period, workers: int = 1, progress=None) -> int:
    """Render and record every statement of a closed month not issued yet; return how many.

    Rendering runs outside any transaction (in worker processes when workers > 1); each PDF
    is then stored and its SHA-256 recorded as `statement.issued` in its own transaction, so
    an interrupted run resumes where it stopped.
    """
    data = _frozen(period)
    pending = list(
        Statement.select(Statement, User).join(User)
        .where((Statement.period == period) & Statement.pdf_sha256.is_null())
        .order_by(Statement.id)
    )
    jobs = [statement_job(member_values(data, st.member, period, _member_locale(st.member)),
                          key=str(st.id)) for st in pending]
    if period.summary_sha256 is None:
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
        jobs.append(statement_job(board_values(data, period, locale), key="board"))
    by_id = {str(st.id): st for st in pending}
    issued = 0
    for key, pdf in render_jobs(jobs, workers):
        sha = _store_pdf(pdf)
        with write_transaction():
            # Only if still unissued: two runs of the same job (a worker thought dead that was
            # not) must not put one statement on the ledger twice.
            if key == "board":
                changed = Period.update(summary_sha256=sha).where(
                    (Period.id == period.id) & Period.summary_sha256.is_null()).execute()
                period.summary_sha256 = sha
                subject, who = f"statement:{period.month}-board", "board"
            else:
                st = by_id[key]
                changed = Statement.update(pdf_sha256=sha).where(
                    (Statement.id == st.id) & Statement.pdf_sha256.is_null()).execute()
                subject, who = f"statement:{st.id}", st.member.pseudonym
            if changed:
                events.record(
                    "statement.issued", subject, month=period.month, member=who, pdf_sha256=sha
                )
        issued += 1
        if progress is not None:
            progress(1)
    return issued


def close_and_issue(actor: User | None, month: str, now: datetime | None = None,
                    workers: int = 1, progress=None) -> Period:
    """Close the month, then issue its statements here and now (the command line's way)."""
    period = close_month(actor, month, now)
    issue_statements(period, workers, progress)
    return period


def close_and_queue(actor: User | None, month: str, now: datetime | None = None) -> (
    tuple[Period, Job]
):
    """Close the month and queue the issuing of its PDFs (the board's close button).

    The close itself is quick; rendering a PDF per member is not, so a worker does it while
    the board follows the job's page.
    """
    period = close_month(actor, month, now)
    return period, queue_issuing(actor, period)


def queue_issuing(actor: User | None, period: Period) -> Job:
    """Queue the issuing of a closed month's PDFs not issued yet (once, however often asked).

    :raises Conflict: every PDF of the month is already issued.
    """
    _require_board(actor)
    if not pending_count(period):
        raise Conflict(_("Every statement of %(month)s is already issued.", month=period.month))
    return jobs.submit(actor, JobKind.ISSUE_STATEMENTS, period.month, board=True)


@jobs.handler(JobKind.ISSUE_STATEMENTS)
def _issue_job(job: Job, progress) -> str:
    """Issue the month's PDFs not issued yet, reporting each; resumes where a dead run stopped."""
    period = _closed(job.subject)
    if period is None:
        raise NotFound(_("%(month)s is not closed.", month=job.subject))
    total = Statement.select().where(Statement.period == period).count() + 1
    done = total - pending_count(period)
    progress(done, total)

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    issue_statements(period, current_app.config["RENDER_PROCESSES"], progress=step)
    return _("%(count)s PDF(s) of %(month)s issued.", count=total, month=period.month)


# -- reading and downloading -------------------------------------------------------------


def _viewable_month(month: str, now: datetime | None) -> str:
    month = parse_month(month)
    if month > current_month(now):
        raise NotFound(_("%(month)s has not started yet.", month=month))
    return month


def _being_issued(month: str) -> Unavailable:
    # A GET never writes: the PDFs come from the issuing job, and the reader comes back.
    return Unavailable(_("The statements of %(month)s are still being issued; try again in a "
                         "minute.", month=month))


def _issued(period: Period) -> Period:
    """Return the period if every PDF of it is issued.

    :raises Unavailable: some are still being issued (or wait for the board to resume it).
    """
    if pending_count(period):
        raise _being_issued(period.month)
    return period


def summary_pdf(actor: User, month: str, draft: bool, locale: str,
                now: datetime | None = None) -> tuple[str, bytes]:
    """Return the board summary's file name and PDF: the issued one, or a draft.

    Every member may read the summary of a closed month (the coop's accounts are theirs);
    drafts are the board's working papers.
    """
    if actor is None or not actor.is_member:
        raise Forbidden(_("Only members can do this."))
    month = _viewable_month(month, now)
    period = _closed(month)
    if period is not None:
        period = _issued(period)
        return f"{month}-summary.pdf", _load_pdf(period.summary_sha256)
    if not actor.is_board:
        raise NotFound(_("%(month)s is not closed yet: its summary is published when the board "
                         "closes it.", month=month))
    if not draft:
        raise NotFound(_("%(month)s is not closed yet; preview a draft instead.", month=month))
    values = board_values(compute(month), None, locale)
    from coop.statements.render import render_statement

    return values.filename, render_statement(values)


def _visible_member(actor: User, member_id: int) -> User:
    """Return the member whose statement actor may read: their own, or anyone's for the board."""
    if actor is None or not (actor.is_board or actor.id == member_id):
        raise NotFound(_("Nothing here, or nothing that is yours to see."))
    member = User.get_or_none(User.id == member_id)
    if member is None or member.role not in (Role.MEMBER, Role.BOARD):
        raise NotFound(_("Nothing here, or nothing that is yours to see."))
    return member


def member_pdf(actor: User, month: str, member_id: int, draft: bool, locale: str | None = None,
               now: datetime | None = None) -> tuple[str, bytes]:
    """Return a member's statement for the month: the issued PDF, or a draft."""
    member = _visible_member(actor, member_id)
    month = _viewable_month(month, now)
    period = _closed(month)
    if period is not None:
        statement = Statement.get_or_none(
            (Statement.period == period) & (Statement.member == member)
        )
        if statement is None:
            raise NotFound(_("No statement for this member in %(month)s.", month=month))
        if statement.pdf_sha256 is None:
            raise _being_issued(month)
        return f"{month}-member-{member.id}.pdf", _load_pdf(statement.pdf_sha256)
    if not draft:
        raise NotFound(_("%(month)s is not closed yet; preview a draft instead.", month=month))
    values = member_values(compute_cached(month), member, None,
                           locale or _member_locale(member))
    from coop.statements.render import render_statement

    return values.filename, render_statement(values)


@dataclass(frozen=True)
class MonthFiles:
    """A month's PDFs as (file name, bytes), produced lazily; count says how many."""

    count: int
    items: Iterator[tuple[str, bytes]]

    def __iter__(self):
        return iter(self.items)


def pending_count(period: Period) -> int:
    """Return how many PDFs of a closed month are not issued yet."""
    pending = Statement.select().where(
        (Statement.period == period) & Statement.pdf_sha256.is_null()
    )
    return pending.count() + (period.summary_sha256 is None)


def month_files(month: str, draft: bool, locale: str, workers: int = 1,
                now: datetime | None = None) -> MonthFiles:
    """Return every PDF of the month: the issued ones once closed, drafts when asked."""
    month = _viewable_month(month, now)
    period = _closed(month)
    if period is not None:
        period = _issued(period)
        names = [(f"{month}-summary.pdf", period.summary_sha256)]
        for st in Statement.select().where(Statement.period == period).order_by(Statement.member):
            names.append((f"{month}-member-{st.member_id}.pdf", st.pdf_sha256))
        return MonthFiles(len(names), ((name, _load_pdf(sha)) for name, sha in names))
    if not draft:
        raise NotFound(_("%(month)s is not closed yet; preview a draft instead.", month=month))
    data = compute(month)
    ids = [m["member_id"] for m in data.figures["members"]]
    members = list(User.select().where(User.id.in_(ids or [0])).order_by(User.id))
    values = [board_values(data, None, locale)]
    values += [member_values(data, m, None, _member_locale(m)) for m in members]
    jobs = (statement_job(v) for v in values)
    return MonthFiles(len(values), render_jobs(jobs, workers))


def statements_zip(actor: User, month: str, draft: bool, locale: str,
                   now: datetime | None = None) -> tuple[str, bytes]:
    """Return a zip of the month's summary and every member's statement."""
    _require_board(actor)
    files = month_files(month, draft, locale, 1, now)
    closed = _closed(parse_month(month)) is not None
    name = f"{month}-statements{'' if closed else '-draft'}.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, pdf in files:
            archive.writestr(filename, pdf)
    return name, buffer.getvalue()


__all__ = [
    "add_expense",
    "close_month",
    "close_and_issue",
    "close_and_queue",
    "compute",
    "issue_statements",
    "month_files",
    "member_pdf",
    "parse_month",
    "queue_issuing",
    "statements_zip",
    "summary_pdf",
]
