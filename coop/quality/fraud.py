"""Fraud findings: the one case where pay already earned is taken back.

Answers given in good faith are paid: a low gold accuracy stops a member's future work, never
their pay. A client (on its own project) or the board may report that a member's answers were
given in bad faith (a bot, copy-paste); the member is told and may answer in writing; the board
upholds or dismisses the report with a reason. Upholding voids the member's answers on the
project that the report names (all of them, or those given from a date): they leave the results
and their aggregates, each accepted one's pay is taken back as a negative earning dated by the
decision's ledger entry, and the member receives no more of the project's items. The take-back
always lands in the month in progress (a month cannot close before it ends), so a closed month's
figures never change. Dismissing changes nothing. Report, answer, decision and voided answers
are all on the ledger; the reasons go there as SHA-256 hashes only.
"""

import hashlib
from datetime import date

import peewee
from flask_babel import gettext as _

from coop import calendar
from coop.audit.events import record
from coop.db import locked, write_transaction
from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.models import NotificationKind, User, utcnow
from coop.notifications.operations import notify
from coop.projects.models import (
    Answer,
    AnswerEarning,
    AnswerState,
    EarningKind,
    Project,
)
from coop.projects.operations import end_member_leases
from coop.quality.models import FindingState, FraudFinding, FraudKind
from coop.quality.operations import _reason
from ledger.entry import MAX_ITEMS

# The states whose answers an upheld finding voids: rejected ones were never paid.
VOIDABLE = (AnswerState.PENDING, AnswerState.ACCEPTED)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock(finding: FraudFinding) -> FraudFinding:
    found = locked(FraudFinding.select().where(FraudFinding.id == finding.id)).first()
    if found is None:
        raise NotFound(_("No such finding."))
    return found


def _lock_project(project: Project) -> Project:
    return locked(Project.select().where(Project.id == project.id)).get()


def report_fraud(reporter: User, project: Project, member: User, kind: str, reason: str,
                 since: date | None = None) -> FraudFinding:
    """Report that member gave the project's answers in bad faith; the board will decide.

    :raises NotFound: the reporter is neither the project's client nor the board, or the
        member gave no answer on the project.
    """
    if not (reporter.is_board or (reporter.is_client and project.client_id == reporter.id)):
        raise NotFound(_("No such project among yours."))
    if kind not in set(FraudKind):
        raise DomainError(_("Choose what kind of fraud it is."), field="kind")
    reason = _reason(reason)
    if member.id == reporter.id:
        raise DomainError(_("You cannot report yourself."), field="member")
    if not Answer.select().where(
        (Answer.project == project.id) & (Answer.member == member.id)
    ).exists():
        raise DomainError(_("This member gave no answer on this project."), field="member")
    start = calendar.midnight(since) if since is not None else None
    with write_transaction():
        if FraudFinding.select().where(
            (FraudFinding.project == project.id) & (FraudFinding.member == member.id)
            & (FraudFinding.state == FindingState.OPEN)
        ).exists():
            raise Conflict(_("A report on this member's answers here already waits for the "
                             "board."))
        finding = FraudFinding.create(project=project.id, member=member.id,
                                      reporter=reporter.id, kind=kind, reason=reason,
                                      since=start)
        record(
            "fraud.reported",
            f"fraud_finding:{finding.id}",
            project=project.id,
            member=member.pseudonym,
            by="board" if reporter.is_board and project.client_id != reporter.id else "client",
            fraud_kind=kind,
            since=start.isoformat() if start else "",
            reason_sha256=_sha256(reason),
        )
        notify([member.id], NotificationKind.FRAUD_REPORTED, f"fraud_finding:{finding.id}",
               title=project.title)
    return FraudFinding.get_by_id(finding.id)


def answer_finding(member: User, finding: FraudFinding, text: str) -> FraudFinding:
    """Give the member's written answer to a finding against them, while the board decides."""
    if finding.member_id != member.id:
        raise NotFound(_("No such finding among yours."))
    text = _reason(text, "text")
    with write_transaction():
        finding = _lock(finding)
        if finding.state != FindingState.OPEN:
            raise Conflict(_("The board has already decided this finding."))
        FraudFinding.update(member_answer=text, answered_at=utcnow()).where(
            FraudFinding.id == finding.id
        ).execute()
        record(
            "fraud.answered",
            f"fraud_finding:{finding.id}",
            project=finding.project_id,
            member=member.pseudonym,
            text_sha256=_sha256(text),
        )
    return FraudFinding.get_by_id(finding.id)


def named_answers(finding: FraudFinding) -> peewee.ModelSelect:
    """Return the answers the finding names that are still voidable, by id."""
    query = Answer.select().where(
        (Answer.project == finding.project_id) & (Answer.member == finding.member_id)
        & Answer.state.in_(list(VOIDABLE))
    )
    if finding.since is not None:
        query = query.where(Answer.submitted_at >= finding.since)
    return query.order_by(Answer.id)


def _void(finding: FraudFinding, now) -> tuple[int, int]:
    """Void the named answers and take back their pay; return (answers, earnings cents)."""
    answers = list(named_answers(finding).select(Answer.id))
    ids = [a.id for a in answers]
    taken = 0
    for start in range(0, len(ids), MAX_ITEMS):
        chunk = ids[start : start + MAX_ITEMS]
        Answer.update(state=AnswerState.VOIDED, reviewed_at=now).where(
            Answer.id.in_(chunk)
        ).execute()
        paid = list(
            AnswerEarning.select(
                AnswerEarning.answer,
                peewee.fn.SUM(AnswerEarning.price_cents),
                peewee.fn.SUM(AnswerEarning.earnings_cents),
                peewee.fn.SUM(AnswerEarning.margin_cents),
            )
            .where(AnswerEarning.answer.in_(chunk))
            .group_by(AnswerEarning.answer)
            .tuples()
        )
        event = record(
            "answers.voided",
            f"fraud_finding:{finding.id}",
            project=finding.project_id,
            answers=chunk,
            earnings_taken_back_cents=sum(int(e) for _a, _p, e, _m in paid),
        )
        rows = [
            {
                "member": finding.member_id,
                "answer": answer_id,
                "kind": EarningKind.CLAWBACK,
                "project": finding.project_id,
                "price_cents": -int(price),
                "earnings_cents": -int(earned),
                "margin_cents": -int(margin),
                "created_at": now,
                "ledger_index": event.ledger_index,
                "unix_ns": event.unix_ns,
            }
            for answer_id, price, earned, margin in paid
            if int(price) or int(earned)
        ]
        if rows:
            AnswerEarning.insert_many(rows).execute()
        taken += sum(int(e) for _a, _p, e, _m in paid)
    return len(ids), taken


def decide_finding(board: User, finding: FraudFinding, *, upheld: bool,
                   note: str) -> FraudFinding:
    """Uphold (void the named answers, take back their pay) or dismiss a finding, as the board.

    :raises Forbidden: the actor is not on the board, or is the member the finding is about.
    """
    if not board.is_board:
        raise Forbidden(_("Only the board decides fraud findings."))
    if finding.member_id == board.id:
        raise Forbidden(_("The finding is about you: another board member decides."))
    note = _reason(note, "note")
    now = utcnow()
    with write_transaction():
        _lock_project(finding.project)
        finding = _lock(finding)
        if finding.state != FindingState.OPEN:
            raise Conflict(_("The board has already decided this finding."))
        voided, taken = _void(finding, now) if upheld else (0, 0)
        if upheld:
            # Items the member holds now go back to others: no answer after the finding.
            end_member_leases(finding.project, finding.member, now)
        FraudFinding.update(
            state=FindingState.UPHELD if upheld else FindingState.DISMISSED,
            decision_note=note, decided_at=now, answers_voided=voided, taken_back_cents=taken,
        ).where(FraudFinding.id == finding.id).execute()
        record(
            "fraud.decided",
            f"fraud_finding:{finding.id}",
            project=finding.project_id,
            member=finding.member.pseudonym,
            decision="upheld" if upheld else "dismissed",
            answers_voided=voided,
            earnings_taken_back_cents=taken,
            note_sha256=_sha256(note),
        )
        notify([finding.member_id], NotificationKind.FRAUD_DECIDED,
               f"fraud_finding:{finding.id}", title=finding.project.title, upheld=upheld)
    return FraudFinding.get_by_id(finding.id)
