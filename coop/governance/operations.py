"""The general assembly's votes: propose, announce, cast a ballot, count and apply.

One member, one vote, whatever their capital. A vote's rules (quorum and majority) are frozen
from the board's parameters when it is proposed. Ballots are secret: the count publishes on
the ledger only the counts and each ballot's commitment, SHA-256("<vote id>:<nonce>:<choice>"),
sorted; the nonce is shown to its member alone, who can recompute their commitment and find it
in the published list. The decision is applied in the count's transaction, and only if the
vote passed. GETs never count: `coop tick` (and the worker) count votes past their closing
time, or a board member asks for the count.
"""

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _

from coop.audit.events import record
from coop.auth.roles import require_board, require_member
from coop.board.operations import InvalidParameters, apply_parameters, check_parameter_values
from coop.db import locked, write_transaction
from coop.errors import Conflict, DomainError
from coop.governance.models import Ballot, Choice, Outcome, ProposalKind, Vote
from coop.models import Event, MemberStatus, NotificationKind, Role, User
from coop.notifications.operations import notify
from coop.params import Params, current, rule_violations

# What each kind of proposal may change.
KEYS = {
    ProposalKind.ALLOCATION: ("legal_reserve_bp", "work_share_bp", "dividends_bp"),
    ProposalKind.PARAMETERS: (
        "pay_floor_cents_per_hour",
        "margin_bp",
        "max_active_tasks",
        "weekly_hours_cap",
        "sensitive_minutes_per_day",
    ),
    ProposalKind.STATUTES: ("basis_earnings_pct", "basis_hours_pct", "basis_equal_pct"),
}
MAX_TITLE = 120
LONGEST_VOTE = timedelta(days=90)
# Typing a form takes a while: an opening this little in the past means "now".
OPENING_GRACE = timedelta(minutes=10)
# The ledger holds lists of 64 items at most: commitments go in pages of 64 lists of 64.
COMMITMENTS_PER_LIST = 64
COMMITMENTS_PER_ENTRY = COMMITMENTS_PER_LIST * COMMITMENTS_PER_LIST


def commitment(vote_id: int, nonce: str, choice: str) -> str:
    """Return the hex SHA-256 of "<vote id>:<nonce>:<choice>", a ballot's public receipt."""
    return hashlib.sha256(f"{vote_id}:{nonce}:{choice}".encode()).hexdigest()


def commitments_digest(commitments: list[str]) -> str:
    """Return the SHA-256 of the sorted commitments, one per line: the whole list in one hash."""
    return hashlib.sha256("".join(c + "\n" for c in sorted(commitments)).encode()).hexdigest()


def electorate() -> list[int]:
    """Return the ids of the members entitled to vote: active members and board, not disabled."""
    rows = User.select(User.id).where(
        User.role.in_([Role.MEMBER, Role.BOARD])
        & (User.member_status == MemberStatus.ACTIVE)
        & User.disabled_at.is_null()
    )
    return [row.id for row in rows]


def _unix(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def _check_changes(kind: ProposalKind, changes: dict[str, int]) -> dict[str, int]:
    if not changes:
        raise DomainError(_("Propose at least one new value."), "changes")
    allowed = KEYS[kind]
    check_parameter_values(changes)
    if set(changes) - set(allowed):
        raise DomainError(_("This kind of proposal cannot change that parameter."), "changes")
    now_in_force = current()
    if all(getattr(now_in_force, k) == v for k, v in changes.items()):
        raise DomainError(_("The proposal changes nothing: every value is already in force."),
                          "changes")
    problems = rule_violations(Params(**{**now_in_force.as_dict(), **changes}))
    if problems:
        raise InvalidParameters(problems)
    return {k: changes[k] for k in allowed if k in changes}


def propose(actor: User, kind: str, title: str, changes: dict[str, int], closes_at: datetime,
            now: datetime, opens_at: datetime | None = None, fiscal_year: int | None = None,
            statutory: bool = False) -> Vote:
    """Put a decision to the members; announce it at once if it opens now.

    A change of the work-share key is a change of the statutes; the board may hold any other
    proposal to the statutes' rules too, never a statutes' change to the ordinary ones.
    """
    require_board(actor)
    try:
        kind = ProposalKind(kind)
    except ValueError:
        raise DomainError(_("Choose what the vote decides."), "kind") from None
    title = (title or "").strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise DomainError(_("A title is 1 to %(max)s characters.", max=MAX_TITLE), "title")
    if kind == ProposalKind.ALLOCATION:
        if fiscal_year is None or not 2000 <= fiscal_year <= 2100:
            raise DomainError(_("Say which fiscal year the allocation is for."), "fiscal_year")
    else:
        fiscal_year = None
    changes = _check_changes(kind, changes)
    opens_at = now if opens_at is None else opens_at
    if opens_at < now - OPENING_GRACE:
        raise DomainError(_("The opening is in the past; leave it empty to open the vote now."),
                          "opens_at")
    opens_at = max(opens_at, now)
    if closes_at <= opens_at:
        raise DomainError(_("The vote must close after it opens."), "closes_at")
    if closes_at - opens_at > LONGEST_VOTE:
        raise DomainError(_("A vote stays open for 90 days at most."), "closes_at")
    statutory = bool(statutory) or kind == ProposalKind.STATUTES
    params = current()
    quorum = params.statutes_quorum_bp if statutory else params.ordinary_quorum_bp
    majority = params.statutes_majority_bp if statutory else params.ordinary_majority_bp
    with write_transaction():
        vote = Vote.create(
            kind=kind, title=title, fiscal_year=fiscal_year,
            changes=json.dumps(changes, sort_keys=True), statutory=statutory, quorum_bp=quorum,
            majority_bp=majority, opens_at=opens_at, closes_at=closes_at, proposed_by=actor.id,
            created_at=now,
        )  # fmt: skip
        event = record(
            "vote.proposed", f"vote:{vote.id}", proposal=str(kind), changes=changes,
            fiscal_year=fiscal_year, statutory=statutory, quorum_bp=quorum, majority_bp=majority,
            opens_at=_unix(opens_at), closes_at=_unix(closes_at), proposed_by=actor.pseudonym,
            title_sha256=hashlib.sha256(title.encode()).hexdigest(),
        )  # fmt: skip
        vote.proposal_ledger_index = event.ledger_index
        vote.save()
        if opens_at <= now:
            _announce(vote, now)
    return vote


def _announce(vote: Vote, now: datetime) -> None:
    notify(electorate(), NotificationKind.VOTE_OPENED, f"vote:{vote.id}", title=vote.title,
           closes_at=vote.closes_at.isoformat())
    Vote.update(notified_at=now).where(Vote.id == vote.id).execute()
    vote.notified_at = now


def open_due(now: datetime) -> int:
    """Tell the members of each vote that has opened since; return how many votes opened."""
    due = Vote.select(Vote.id).where(
        Vote.notified_at.is_null() & Vote.counted_at.is_null() & (Vote.opens_at <= now))
    opened = 0
    for row in due:
        with write_transaction():
            vote = locked(Vote.select().where(Vote.id == row.id)).get()
            if vote.notified_at is None and vote.counted_at is None:
                _announce(vote, now)
                opened += 1
    return opened


def cast_ballot(member: User, vote: Vote, choice: str, now: datetime) -> Ballot:
    """Record or change member's ballot while the vote is open.

    The vote's row is locked first, so a ballot and the count never interleave; the unique
    (vote, member) index makes a second ballot of the same member update the first.
    """
    require_member(member)
    try:
        choice = Choice(choice)
    except ValueError:
        raise DomainError(_("Choose for, against or abstain."), "choice") from None
    with write_transaction():
        vote = locked(Vote.select().where(Vote.id == vote.id)).get()
        if vote.counted_at is not None or now >= vote.closes_at:
            raise Conflict(_("This vote is closed: no ballot can be cast or changed any more."))
        if now < vote.opens_at:
            raise Conflict(_("This vote is not open yet."))
        existing = Ballot.get_or_none((Ballot.vote == vote.id) & (Ballot.member == member.id))
        nonce = existing.nonce if existing else secrets.token_hex(16)
        sealed = commitment(vote.id, nonce, choice)
        (
            Ballot.insert(vote=vote.id, member=member.id, choice=choice, nonce=nonce,
                          commitment=sealed, cast_at=now, changed_at=now)
            .on_conflict(
                conflict_target=[Ballot.vote, Ballot.member],
                update={Ballot.choice: choice, Ballot.nonce: nonce, Ballot.commitment: sealed,
                        Ballot.changed_at: now},
            )
            .execute()
        )
    return Ballot.get((Ballot.vote == vote.id) & (Ballot.member == member.id))


def passes(vote: Vote, yes: int, no: int, abstain: int, members: int) -> tuple[bool, bool]:
    """Return (quorum met, passed) under the vote's frozen rules.

    The quorum counts every ballot, abstentions too, against the members entitled to vote;
    the majority compares the votes for with the votes cast (for and against), strictly.
    """
    quorum_met = (yes + no + abstain) * 10000 >= members * vote.quorum_bp
    return quorum_met, quorum_met and yes * 10000 > (yes + no) * vote.majority_bp


def _publish(vote: Vote, commitments: list[str]) -> dict:
    """Return the commitments as the result entry carries them (in extra entries if many)."""
    pages = [commitments[i:i + COMMITMENTS_PER_ENTRY]
             for i in range(0, len(commitments), COMMITMENTS_PER_ENTRY)] or [[]]

    def lists(page):
        return [page[i:i + COMMITMENTS_PER_LIST] for i in range(0, len(page), COMMITMENTS_PER_LIST)]

    if len(pages) == 1:
        return {"commitments": lists(pages[0])}
    indexes = [
        record("vote.commitments", f"vote:{vote.id}", page=n, commitments=lists(page)).ledger_index
        for n, page in enumerate(pages)
    ]
    return {"commitment_entries": indexes}


def count(vote: Vote, now: datetime, actor: User | None = None) -> Vote:
    """Count a closed vote, put its result on the ledger and apply the decision if it passed.

    actor is the board member who asked for the count, or None for `coop tick`.
    :raises Conflict: the vote is still open, or already counted (for a board member).
    """
    if actor is not None:
        require_board(actor)
    with write_transaction():
        vote = locked(Vote.select().where(Vote.id == vote.id)).get()
        if vote.counted_at is not None:
            if actor is None:
                return vote
            raise Conflict(_("This vote is already counted."))
        if now < vote.closes_at:
            raise Conflict(_("This vote is still open; it can be counted once it closes."))
        voters = set(electorate())
        counted = [b for b in Ballot.select().where(Ballot.vote == vote.id)
                   if b.member_id in voters]  # a member who has left no longer votes
        tally = {c: sum(1 for b in counted if b.choice == c) for c in Choice}
        yes, no, abstain = tally[Choice.YES], tally[Choice.NO], tally[Choice.ABSTAIN]
        quorum_met, passed = passes(vote, yes, no, abstain, len(voters))
        outcome = Outcome.PASSED if passed else (
            Outcome.REJECTED if quorum_met else Outcome.NO_QUORUM)
        applied = False
        if passed:
            try:
                with write_transaction():  # a savepoint: a refusal undoes only this
                    apply_parameters(vote.changes_data, vote=f"vote:{vote.id}")
                applied = True
            except InvalidParameters:
                applied = False  # the parameters moved since: the decision breaks a rule now
        commitments = sorted(b.commitment for b in counted)
        event = record(
            "vote.counted", f"vote:{vote.id}", outcome=str(outcome), applied=applied,
            yes=yes, no=no, abstain=abstain, cast=yes + no, ballots=len(counted),
            electorate=len(voters), quorum_bp=vote.quorum_bp, majority_bp=vote.majority_bp,
            statutory=vote.statutory, changes=vote.changes_data,
            commitments_sha256=commitments_digest(commitments), **_publish(vote, commitments),
        )  # fmt: skip
        vote.counted_at, vote.outcome, vote.applied = now, outcome, applied
        vote.electorate, vote.yes_count, vote.no_count = len(voters), yes, no
        vote.abstain_count, vote.result_ledger_index = abstain, event.ledger_index
        vote.save()
        notify(voters, NotificationKind.VOTE_COUNTED, f"vote:{vote.id}", title=vote.title,
               outcome=str(outcome), applied=applied)
    return vote


def count_due(now: datetime) -> int:
    """Count every vote past its closing time; return how many were counted."""
    due = Vote.select(Vote.id).where(Vote.counted_at.is_null() & (Vote.closes_at <= now))
    counted = 0
    for row in due:
        count(Vote.get_by_id(row.id), now)
        counted += 1
    return counted


def published_commitments(vote: Vote) -> list[str]:
    """Return the commitments the count published on the ledger (empty before the count)."""
    if vote.result_ledger_index is None:
        return []
    result = Event.get(Event.ledger_index == vote.result_ledger_index).payload
    if "commitments" in result:
        lists = result["commitments"]
    else:
        pages = Event.select().where(Event.ledger_index.in_(result["commitment_entries"]))
        lists = [chunk for page in pages for chunk in page.payload["commitments"]]
    return [c for chunk in lists for c in chunk]
