"""Close a fiscal year: split its result under art. 33, reconcile advances, issue annual PDFs.

A year closes once every one of its months is closed, and years close in order. The year's
result is the sum of its months' results less the loss the year before carried forward; it is
split with the month's own code (`annual.compute_year`), frozen as canonical JSON with its
SHA-256 on the ledger (`fiscal_year.closed`). Each member's annual statement is then rendered
by the statement renderer, in a worker (the board's close queues it, as a month's does), with
its PDF's SHA-256 on the ledger (`statement.issued`).
"""

from dataclasses import dataclass
from datetime import datetime

import peewee
from flask import current_app
from flask_babel import gettext as _

from coop import calendar, jobs
from coop import params as coop_params
from coop.audit import events
from coop.auth.roles import require_board_or_operator as _require_board
from coop.capital import operations as capital
from coop.db import write_transaction
from coop.errors import Conflict, DomainError, NotFound
from coop.models import Job, JobKind, User, utcnow
from coop.statements import years
from coop.statements.allocation import leftover_order
from coop.statements.annual import compute_year, reconcile, year_period
from coop.statements.models import AnnualStatement, FiscalYear, Period
from coop.statements.operations import (
    _being_issued,
    _coop_identity,
    _load_pdf,
    _member_locale,
    _store_pdf,
    _tz,
    _visible_member,
    holders_between,
    statement_number,
    totals_sha256,
)
from coop.statements.render import StatementValues, canonical_json, render_jobs, statement_job


def parse_year(year: int) -> int:
    """Return year if it can name a fiscal year (2000 to 2999); else raise NotFound."""
    if not 2000 <= year <= 2999:
        raise NotFound(_("%(year)s is not a fiscal year.", year=year))
    return year


def _start() -> int:
    return coop_params.current().fiscal_year_start_month


def first_closed_month() -> str | None:
    return Period.select(peewee.fn.MIN(Period.month)).scalar()


def months_of(year: int) -> list[str]:
    """Return the months of the year the coop has lived: from its first closed month on."""
    first = first_closed_month()
    return [m for m in years.year_months(year, _start()) if first and m >= first]


def next_year() -> int | None:
    """Return the only fiscal year that may close next, or None before any month is closed."""
    last = FiscalYear.select(peewee.fn.MAX(FiscalYear.year)).scalar()
    if last is not None:
        return last + 1
    first = first_closed_month()
    return years.fiscal_year_of(first, _start()) if first else None


def close_refusal(year: int) -> str | None:
    """Return why the fiscal year cannot close now, or None if it can (close_year checks again)."""
    if years.closed_year(year) is not None:
        return _("The fiscal year %(year)s is closed: its figures are final.", year=year)
    upcoming = next_year()
    if upcoming is None:
        return _("No month is closed yet: a fiscal year closes when all its months are.")
    if year != upcoming:
        return _("Fiscal years close in order: %(year)s is the next to close.", year=upcoming)
    closed = {p.month for p in Period.select(Period.month).where(
        Period.month.in_(months_of(year)))}
    missing = [m for m in months_of(year) if m not in closed]
    if missing:
        return _("%(month)s is not closed: a fiscal year closes when all its months are.",
                 month=missing[0])
    return None


def allocation_params(year: int) -> tuple[coop_params.Params, int | None]:
    """Return the split for the year, and the general assembly vote that decided it if any.

    A passed allocation vote for the year was applied to the parameters when counted; its
    values are laid over today's so a later change of the split does not undo the members'
    decision. Without one, the split in force is the board's, which the assembly approves.
    """
    from coop.governance.models import Outcome, ProposalKind, Vote

    params = coop_params.current()
    vote = (Vote.select().where((Vote.kind == ProposalKind.ALLOCATION) & (Vote.fiscal_year == year)
                                & (Vote.outcome == Outcome.PASSED) & Vote.applied)
            .order_by(Vote.counted_at.desc(), Vote.id.desc()).first())
    if vote is None:
        return params, None
    decided = coop_params.Params(**{**params.as_dict(), **vote.changes_data})
    if coop_params.rule_violations(decided):
        return params, None
    return decided, vote.id


@dataclass(frozen=True)
class YearData:
    """A fiscal year's figures: totals and each member's, as they are frozen at the close."""

    year: int
    totals: dict
    members: list[dict]  # each with the months it was paid in


def compute(year: int) -> YearData:
    """Compute the fiscal year from its closed months (frozen) and the capital register."""
    start = _start()
    rows = years.closed_months(months_of(year))
    results = [years.month_result(p, sts) for p, sts in rows]
    start_ns, end_ns = years.year_bounds(year, start)
    holders = holders_between(start_ns, end_ns)
    paid = years.advances_paid(rows)
    before = years.closed_year(year - 1)
    excess = {}
    if before is not None:
        for st in AnnualStatement.select().where(AnnualStatement.fiscal_year == before):
            if st.figures_data["excess_carried_cents"]:
                excess[st.member_id] = st.figures_data["excess_carried_cents"]
    ids = ({m for r in results for m in r.work} | {h.member_id for h in holders} | set(paid)
           | set(excess))
    names = {u.id: u.pseudonym for u in User.select(User.id, User.pseudonym).where(
        User.id.in_(list(ids) or [0]))}
    params, vote = allocation_params(year)
    legal_before = sum(fy.totals_data["legal_reserve_cents"] for fy in
                       FiscalYear.select().where(FiscalYear.year < year))
    figures = compute_year(
        results, holders, years.loss_brought(year), params,
        order=leftover_order(year_period(year), names),
        highest_capital_cents=capital.highest_capital(end_ns),
        legal_reserve_before_cents=legal_before,
    )
    by_member = {m.member_id: m.as_dict() for m in figures.members}
    monthly: dict[int, list] = {}
    for period, statements in rows:
        for st in statements:
            f = st.figures_data["figures"]
            monthly.setdefault(st.member_id, []).append({
                "month": period.month, "earnings_cents": f["earnings_cents"],
                "advance_cents": f.get("advance_cents", 0)})
    members = []
    for member_id in sorted(ids):
        mine = by_member.get(member_id) or {
            "member_id": member_id, "tasks": 0, "minutes": 0, "gross_cents": 0,
            "earnings_cents": 0, "work_share_cents": 0, "dividend_cents": 0, "capital_cents": 0,
            "total_cents": 0}
        balance = reconcile(mine["work_share_cents"], paid.get(member_id, 0),
                            excess.get(member_id, 0))
        members.append({
            **mine,
            "pseudonym": names[member_id],
            "advances_cents": balance.advances_cents,
            "excess_brought_cents": balance.excess_brought_cents,
            "balance_due_cents": balance.balance_due_cents,
            "excess_carried_cents": balance.excess_carried_cents,
            "paid_at_close_cents": balance.balance_due_cents + mine["dividend_cents"],
            "months": monthly.get(member_id, []),
        })
    totals = {
        **figures.totals.as_dict(),
        "fiscal_year": year,
        "first_month": results[0].month if results else None,
        "last_month": results[-1].month if results else None,
        "months": [{"month": r.month, "result_cents": r.result_cents} for r in results],
        "advances_cents": sum(m["advances_cents"] for m in members),
        "balance_due_cents": sum(m["balance_due_cents"] for m in members),
        "excess_carried_cents": sum(m["excess_carried_cents"] for m in members),
        "advance_rate_bp": params.advance_rate_bp if params.work_share_advances else 0,
        "vote": vote,
    }
    return YearData(year, totals, members)


def close_year(actor: User | None, year: int) -> FiscalYear:
    """Close the fiscal year: freeze its figures and record `fiscal_year.closed` with their hash.

    :raises DomainError: a month of the year is open, or an earlier year is.
    :raises Conflict: the year is already closed.
    """
    _require_board(actor)
    parse_year(year)
    from coop.audit.ledger import publish_checkpoint

    with write_transaction():
        refusal = close_refusal(year)
        if refusal is not None:
            if years.closed_year(year) is not None:
                raise Conflict(refusal)
            raise DomainError(refusal)
        data = compute(year)
        totals = data.totals
        digest = totals_sha256(totals)
        try:
            fiscal_year = FiscalYear.create(
                year=year, first_month=totals["first_month"], last_month=totals["last_month"],
                closed_by=actor, totals=canonical_json(totals).decode(), totals_sha256=digest)
        except peewee.IntegrityError:  # another board member closed it meanwhile
            raise Conflict(_("The fiscal year %(year)s is closed: its figures are final.",
                             year=year)) from None
        for member in data.members:
            AnnualStatement.create(fiscal_year=fiscal_year, member=member["member_id"],
                                   figures=canonical_json(member).decode())
        event = events.record(
            "fiscal_year.closed", f"fiscal_year:{year}", fiscal_year=year,
            first_month=totals["first_month"], last_month=totals["last_month"],
            totals_sha256=digest, income_cents=totals["income_cents"],
            surplus_cents=totals["surplus_cents"], loss_carried_cents=totals["loss_carried_cents"],
            work_share_cents=totals["work_share_cents"], advances_cents=totals["advances_cents"],
            balance_due_cents=totals["balance_due_cents"],
            vote=f"vote:{totals['vote']}" if totals["vote"] else None,
            members=len(data.members),
        )  # fmt: skip
        fiscal_year.ledger_index = event.ledger_index
        fiscal_year.save()
    checkpoint = publish_checkpoint()  # after the commit, as a month's close does
    with write_transaction():
        FiscalYear.update(checkpoint_size=checkpoint.size, checkpoint_root=checkpoint.root_b64,
                          checkpoint_note=checkpoint.note).where(
            FiscalYear.id == fiscal_year.id).execute()
    return FiscalYear.get_by_id(fiscal_year.id)


def close_and_issue(actor: User | None, year: int, workers: int = 1,
                    progress=None) -> FiscalYear:
    """Close the fiscal year, then issue its annual statements here and now (the command line's
    way)."""
    fiscal_year = close_year(actor, year)
    issue_statements(fiscal_year, workers, progress)
    return fiscal_year


def close_and_queue(actor: User | None, year: int) -> tuple[FiscalYear, Job | None]:
    """Close the fiscal year and queue the issuing of its annual PDFs (the board's button).

    The close itself is quick; rendering a PDF per member is not, so a worker does it while
    the year's page shows how far it got. A year nobody worked in nor held capital has no
    statement, and nothing is queued.
    """
    fiscal_year = close_year(actor, year)
    if not pending_count(fiscal_year):
        return fiscal_year, None
    return fiscal_year, queue_issuing(actor, fiscal_year)


def queue_issuing(actor: User | None, fiscal_year: FiscalYear) -> Job:
    """Queue the issuing of a closed year's annual PDFs not issued yet (once, however often).

    :raises Conflict: every annual statement of the year is already issued.
    """
    _require_board(actor)
    if not pending_count(fiscal_year):
        raise Conflict(_("Every annual statement of %(year)s is already issued.",
                         year=fiscal_year.year))
    return jobs.submit(actor, JobKind.ISSUE_ANNUAL, year_period(fiscal_year.year), board=True)


@jobs.handler(JobKind.ISSUE_ANNUAL)
def _issue_job(job: Job, progress) -> str:
    """Issue the year's PDFs not issued yet, reporting each; resumes where a dead run stopped."""
    fiscal_year = years.closed_year(int(job.subject.removeprefix("FY")))
    if fiscal_year is None:
        raise NotFound(_("The fiscal year %(year)s is not closed.", year=job.subject[2:]))
    total = AnnualStatement.select().where(AnnualStatement.fiscal_year == fiscal_year).count()
    done = total - pending_count(fiscal_year)
    progress(done, total)

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    issue_statements(fiscal_year, current_app.config["RENDER_PROCESSES"], progress=step)
    return _("%(count)s annual statement(s) of %(year)s issued.", count=total,
             year=fiscal_year.year)


def issuing_job(year: int) -> Job | None:
    """Return the year's issuing job, running or last run (for the year's page)."""
    return jobs.latest_job(JobKind.ISSUE_ANNUAL, year_period(year))


# -- the annual statements ---------------------------------------------------------------


def _document_date(fiscal_year: FiscalYear) -> str:
    from coop.statements.operations import _document_date as month_end

    return month_end(fiscal_year.last_month)


def _issued_on(fiscal_year: FiscalYear) -> str | None:
    """Return the day the ledger recorded the year's close, in the coop's time zone."""
    closing = [e for e in events.events_for(f"fiscal_year:{fiscal_year.year}")
               if e.kind == "fiscal_year.closed"]
    if not closing:
        return None
    return datetime.fromtimestamp(closing[-1].unix_ns / 1e9, _tz()).date().isoformat()


def annual_values(fiscal_year: FiscalYear, statement: AnnualStatement, member: User,
                  locale: str) -> StatementValues:
    """Return the values of one member's annual statement: everything in its attached JSON."""
    return StatementValues.from_data({
        "kind": "annual",
        "month": year_period(fiscal_year.year),
        "fiscal_year": fiscal_year.year,
        "locale": locale,
        "timezone": str(_tz()),
        "document_date": _document_date(fiscal_year),
        "draft": False,
        "coop": _coop_identity(),
        "issued_on": _issued_on(fiscal_year),
        # Derived like a month's: one annual statement per member and year ("FY2025-0042").
        "number": statement_number(year_period(fiscal_year.year), member.id),
        "member": {"id": member.id, "pseudonym": member.pseudonym, "name": member.name},
        "figures": statement.figures_data,
        "totals": fiscal_year.totals_data,
        "totals_sha256": fiscal_year.totals_sha256,
        "year_ledger_index": fiscal_year.ledger_index,
        "ledger_url": current_app.config["BASE_URL"] + "/ledger",
        "checkpoint": (
            {"size": fiscal_year.checkpoint_size, "root": fiscal_year.checkpoint_root,
             "note": fiscal_year.checkpoint_note}
            if fiscal_year.checkpoint_size is not None else None
        ),
    })


def pending(fiscal_year: FiscalYear) -> list[AnnualStatement]:
    return list(AnnualStatement.select(AnnualStatement, User).join(User).where(
        (AnnualStatement.fiscal_year == fiscal_year) & AnnualStatement.pdf_sha256.is_null()
    ).order_by(AnnualStatement.id))


def pending_count(fiscal_year: FiscalYear) -> int:
    """Return how many annual PDFs of a closed year are not issued yet."""
    return AnnualStatement.select().where(
        (AnnualStatement.fiscal_year == fiscal_year) & AnnualStatement.pdf_sha256.is_null()
    ).count()


def issue_statements(fiscal_year: FiscalYear, workers: int = 1, progress=None) -> int:
    """Render and record every annual statement of a closed year not issued yet; return how many.

    As for months: rendering runs outside any transaction, then each PDF is stored and its
    SHA-256 recorded as `statement.issued` in its own, so an interrupted run resumes, and a
    second run racing the first records each statement once.
    """
    waiting = pending(fiscal_year)
    by_id = {str(st.id): st for st in waiting}
    jobs = [statement_job(annual_values(fiscal_year, st, st.member, _member_locale(st.member)),
                          key=str(st.id)) for st in waiting]
    issued = 0
    for key, pdf in render_jobs(jobs, workers):
        sha = _store_pdf(pdf)
        st = by_id[key]
        with write_transaction():
            changed = AnnualStatement.update(pdf_sha256=sha).where(
                (AnnualStatement.id == st.id) & AnnualStatement.pdf_sha256.is_null()).execute()
            if changed:
                events.record("statement.issued", f"annual_statement:{st.id}",
                              fiscal_year=fiscal_year.year, member=st.member.pseudonym,
                              pdf_sha256=sha)
        issued += 1
        if progress is not None:
            progress(1)
    return issued


def annual_pdf(actor: User, year: int, member_id: int) -> tuple[str, bytes]:
    """Return a member's annual statement: their own, or anyone's for the board."""
    member = _visible_member(actor, member_id)
    fiscal_year = years.closed_year(parse_year(year))
    statement = fiscal_year and AnnualStatement.get_or_none(
        (AnnualStatement.fiscal_year == fiscal_year) & (AnnualStatement.member == member))
    if statement is None:
        raise NotFound(_("No annual statement for this member in %(year)s.", year=year))
    if statement.pdf_sha256 is None:
        raise _being_issued(year_period(year))
    return f"{year_period(year)}-member-{member.id}.pdf", _load_pdf(statement.pdf_sha256)


def year_label(year: int) -> str:
    """Return how a fiscal year is written: its months, "2025-01 – 2025-12"."""
    months = years.year_months(year, _start())
    return f"{months[0]} – {months[-1]}"


def year_of(month: str) -> int:
    """Return the fiscal year holding a YYYY-MM month, under the start month in force."""
    return years.fiscal_year_of(month, _start())


def current_year(now: datetime | None = None) -> int:
    return year_of(calendar.month_key(now or utcnow()))


__all__ = [
    "annual_pdf",
    "close_and_issue",
    "close_and_queue",
    "close_refusal",
    "close_year",
    "compute",
    "issue_statements",
    "issuing_job",
    "next_year",
    "parse_year",
    "pending_count",
    "queue_issuing",
]
