"""Reads for the fraud finding pages, as plain values: what each side may see of a finding.

The member and the board read everything; the client who reported reads the state and the
board's reason, never the member's answer to the board.
"""

from dataclasses import dataclass
from datetime import date, datetime

from coop import calendar
from coop.models import User
from coop.projects.models import Project
from coop.quality.models import FindingState, FraudFinding


@dataclass(frozen=True)
class Finding:
    id: int
    project_id: int
    project_title: str
    pseudonym: str
    kind: str
    reason: str
    since: date | None  # the first day named, in the coop's time zone; None: all answers
    state: str
    created_at: datetime
    member_answer: str
    decision_note: str
    answers_voided: int
    taken_back_cents: int


def _finding(row: FraudFinding, with_answer: bool = True) -> Finding:
    return Finding(
        id=row.id,
        project_id=row.project_id,
        project_title=row.project.title,
        pseudonym=row.member.pseudonym,
        kind=row.kind,
        reason=row.reason,
        since=calendar.local_date(row.since) if row.since else None,
        state=row.state,
        created_at=row.created_at,
        member_answer=row.member_answer if with_answer else "",
        decision_note=row.decision_note,
        answers_voided=row.answers_voided,
        taken_back_cents=row.taken_back_cents,
    )


def member_findings(member: User) -> list[Finding]:
    """Return the findings against the member, newest first."""
    rows = FraudFinding.select().where(FraudFinding.member == member.id).order_by(
        FraudFinding.id.desc()
    )
    return [_finding(r) for r in rows]


def finding(row: FraudFinding) -> Finding:
    return _finding(row)


def project_findings(viewer: User, project: Project) -> list[Finding]:
    """Return the project's findings the viewer may follow: the board all, a client its own
    reports (without the member's answer to the board)."""
    query = FraudFinding.select().where(FraudFinding.project == project.id)
    if not viewer.is_board:
        query = query.where(FraudFinding.reporter == viewer.id)
    return [_finding(r, with_answer=viewer.is_board) for r in query.order_by(FraudFinding.id)]


def open_findings() -> list[Finding]:
    """Return the findings waiting for the board, oldest first."""
    rows = FraudFinding.select().where(FraudFinding.state == FindingState.OPEN).order_by(
        FraudFinding.id
    )
    return [_finding(r) for r in rows]
