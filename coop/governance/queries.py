"""Reads for the vote pages: plain values for templates, never models."""

import enum
from dataclasses import dataclass
from datetime import datetime

from coop.board.forms import TEXTS, display_with_unit
from coop.governance.models import Ballot, Vote
from coop.governance.operations import commitment, published_commitments
from coop.params import current


class Status(enum.StrEnum):
    SCHEDULED = "scheduled"  # proposed, not open yet
    OPEN = "open"
    CLOSED = "closed"  # past its closing time, waiting for the count
    COUNTED = "counted"


@dataclass(frozen=True)
class Change:
    """One parameter the proposal changes: its label, the value in force and the proposed."""

    name: str
    label: str
    in_force: str | None  # None once counted: the value then in force is the decision's
    proposed: str


@dataclass(frozen=True)
class Result:
    outcome: str
    applied: bool
    yes: int
    no: int
    abstain: int
    electorate: int
    ledger_index: int | None


@dataclass(frozen=True)
class Receipt:
    """The member's own ballot, with what they need to check it was counted."""

    choice: str
    nonce: str
    commitment: str
    preimage: str  # what the commitment hashes, to recompute it with any SHA-256 tool
    changed_at: datetime
    counted: bool | None  # None before the count; then whether the ledger lists it


@dataclass(frozen=True)
class VoteView:
    id: int
    kind: str
    title: str
    fiscal_year: int | None
    statutory: bool
    quorum_bp: int
    majority_bp: int
    opens_at: datetime
    closes_at: datetime
    status: Status
    changes: list[Change]
    proposal_ledger_index: int | None
    result: Result | None
    ballots: int  # how many members voted so far (never who, nor how)


def status_of(vote: Vote, now: datetime) -> Status:
    if vote.counted_at is not None:
        return Status.COUNTED
    if now >= vote.closes_at:
        return Status.CLOSED
    return Status.OPEN if now >= vote.opens_at else Status.SCHEDULED


def _changes(vote: Vote) -> list[Change]:
    in_force = None if vote.counted_at is not None else current()
    return [
        Change(name, str(TEXTS.get(name, (name,))[0]),
               None if in_force is None else display_with_unit(name, getattr(in_force, name)),
               display_with_unit(name, value))
        for name, value in vote.changes_data.items()
    ]


def view_of(vote: Vote, now: datetime) -> VoteView:
    result = None
    if vote.counted_at is not None:
        result = Result(vote.outcome, vote.applied, vote.yes_count, vote.no_count,
                        vote.abstain_count, vote.electorate, vote.result_ledger_index)
    ballots = Ballot.select().where(Ballot.vote == vote.id).count()
    return VoteView(
        vote.id, vote.kind, vote.title, vote.fiscal_year, vote.statutory, vote.quorum_bp,
        vote.majority_bp, vote.opens_at, vote.closes_at, status_of(vote, now), _changes(vote),
        vote.proposal_ledger_index, result, ballots,
    )


def all_votes(now: datetime) -> list[VoteView]:
    """Return every vote, the latest closing first."""
    return [view_of(v, now) for v in Vote.select().order_by(Vote.closes_at.desc(), Vote.id.desc())]


def receipt(member_id: int, vote: Vote) -> Receipt | None:
    """Return the member's ballot in vote and whether the count published it, or None."""
    ballot = Ballot.get_or_none((Ballot.vote == vote.id) & (Ballot.member == member_id))
    if ballot is None:
        return None
    counted = None
    if vote.counted_at is not None:
        counted = commitment(vote.id, ballot.nonce, ballot.choice) in set(
            published_commitments(vote))
    return Receipt(ballot.choice, ballot.nonce, ballot.commitment,
                   f"{vote.id}:{ballot.nonce}:{ballot.choice}", ballot.changed_at, counted)


def my_choices(member_id: int) -> dict[int, str]:
    """Return {vote id: choice} of the member's ballots, for the list of votes."""
    rows = Ballot.select(Ballot.vote, Ballot.choice).where(Ballot.member == member_id)
    return {row.vote_id: row.choice for row in rows}
