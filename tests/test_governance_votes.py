"""The general assembly: one member one vote; quorum and majority decide (two thirds for the
statutes); a ballot changed before the close counts once, a ballot after the close is refused;
the result goes on the ledger and verifies; a member's receipt is in the published list; the
decision is applied only when the vote passes; members are told when a vote opens."""

import json
import threading
from datetime import timedelta

import pytest

from coop.audit.ledger import get_ledger, publish_checkpoint, verifier_key
from coop.db import database
from coop.errors import Conflict, DomainError
from coop.governance import operations as ops
from coop.governance import queries
from coop.governance.models import Ballot, Vote
from coop.housekeeping import tick
from coop.models import Event, Notification, NotificationKind, utcnow
from coop.params import current
from ledger.entry import decode_entry
from ledger.note import Verifier
from ledger.verify import verify_bundle


@pytest.fixture
def assembly(app, make_board, make_member):
    """A board member and seven members (eight voters)."""
    return make_board(), [make_member() for _ in range(7)]


def _propose(board, kind="parameters", changes=None, hours=24, **kw):
    now = utcnow()
    return ops.propose(board, kind, "Raise the pay floor", changes or
                       {"pay_floor_cents_per_hour": 1400}, now + timedelta(hours=hours), now,
                       **kw)


def _vote_all(vote, voters, choices):
    now = utcnow()
    for member, choice in zip(voters, choices, strict=False):
        ops.cast_ballot(member, vote, choice, now)


def _close(vote):
    """Count as `coop tick` does once the closing time has passed."""
    return ops.count(vote, vote.closes_at + timedelta(seconds=1))


def test_a_passed_vote_applies_its_decision_and_notifies_the_members(assembly):
    board, members = assembly
    vote = _propose(board)
    opened = Notification.select().where(Notification.kind == NotificationKind.VOTE_OPENED)
    assert {n.user_id for n in opened} == {board.id, *(m.id for m in members)}
    assert current().pay_floor_cents_per_hour == 1200  # not before the count
    _vote_all(vote, members, ["yes", "yes", "yes", "no"])
    counted = _close(vote)
    assert (counted.outcome, counted.applied) == ("passed", True)
    assert (counted.yes_count, counted.no_count, counted.electorate) == (3, 1, 8)
    assert current().pay_floor_cents_per_hour == 1400
    change = Event.select().where(Event.kind == "parameters.changed").get().payload
    assert change["vote"] == f"vote:{vote.id}" and change["changed"] == ["pay_floor_cents_per_hour"]


def test_quorum_not_met_applies_nothing(assembly):
    board, members = assembly
    vote = _propose(board)
    _vote_all(vote, members, ["yes"])  # 1 of 8 < 25 %
    counted = _close(vote)
    assert counted.outcome == "no_quorum" and not counted.applied
    assert current().pay_floor_cents_per_hour == 1200
    assert not Event.select().where(Event.kind == "parameters.changed").exists()


def test_one_member_one_vote_whatever_their_capital(app, make_board, make_member):
    board = make_board()
    rich, *others = [make_member(capital_cents=10_000_000), make_member(), make_member()]
    vote = _propose(board)
    _vote_all(vote, [rich, *others], ["yes", "no", "no"])
    assert _close(vote).outcome == "rejected"


def test_a_tie_is_not_a_majority(assembly):
    board, members = assembly
    vote = _propose(board)
    _vote_all(vote, members, ["yes", "no", "abstain"])  # 3 of 8 ballots meet the quorum
    assert _close(vote).outcome == "rejected"


def test_a_change_of_the_statutes_needs_two_thirds(assembly):
    board, members = assembly
    key = {"basis_earnings_pct": 50, "basis_hours_pct": 50, "basis_equal_pct": 0}
    short = _propose(board, "statutes", key)
    assert short.statutory and short.majority_bp == 6666 and short.quorum_bp == 5000
    _vote_all(short, members[:5], ["yes", "yes", "yes", "no", "no"])  # 60 %: enough if ordinary
    assert _close(short).outcome == "rejected"
    assert current().basis_earnings_pct == 100
    exact = _propose(board, "statutes", key)
    _vote_all(exact, members[:6], ["yes", "yes", "yes", "yes", "no", "no"])  # two thirds
    assert _close(exact).outcome == "passed"
    assert (current().basis_earnings_pct, current().basis_hours_pct) == (50, 50)


def test_the_statutes_quorum_is_half_the_members(assembly):
    board, members = assembly
    vote = _propose(board, "statutes", {"basis_earnings_pct": 0, "basis_equal_pct": 100})
    _vote_all(vote, members[:3], ["yes", "yes", "yes"])  # 3 of 8: a quarter, not a half
    assert _close(vote).outcome == "no_quorum"


def test_the_board_may_hold_an_ordinary_decision_to_the_statutes_rules(assembly):
    board, _members = assembly
    vote = _propose(board, statutory=True)
    assert (vote.quorum_bp, vote.majority_bp) == (5000, 6666)


def test_a_vote_changed_before_the_close_counts_once(assembly):
    board, members = assembly
    vote = _propose(board)
    voter = members[0]
    first = ops.cast_ballot(voter, vote, "no", utcnow())
    second = ops.cast_ballot(voter, vote, "yes", utcnow())
    assert first.id == second.id and first.nonce == second.nonce
    assert first.commitment != second.commitment
    _vote_all(vote, members[1:3], ["yes", "abstain"])
    counted = _close(vote)
    assert (counted.yes_count, counted.no_count, counted.abstain_count) == (2, 0, 1)
    assert Ballot.select().where(Ballot.vote == vote.id).count() == 3


def test_a_ballot_after_the_close_is_refused(assembly):
    board, members = assembly
    vote = _propose(board)
    with pytest.raises(Conflict):
        ops.cast_ballot(members[0], vote, "yes", vote.closes_at)
    _close(vote)
    with pytest.raises(Conflict):
        ops.cast_ballot(members[0], vote, "yes", vote.closes_at - timedelta(hours=1))
    assert not Ballot.select().exists()


def test_a_ballot_before_the_opening_is_refused(assembly):
    board, members = assembly
    now = utcnow()
    vote = ops.propose(board, "parameters", "Margin", {"margin_bp": 700}, now + timedelta(days=2),
                       now, opens_at=now + timedelta(days=1))
    with pytest.raises(Conflict):
        ops.cast_ballot(members[0], vote, "yes", now)
    assert not Notification.select().where(Notification.kind == "vote_opened").exists()
    tick(now + timedelta(days=1, seconds=1))  # the housekeeping opens it and tells the members
    assert Notification.select().where(Notification.kind == "vote_opened").count() == 8


def test_the_result_entry_on_the_ledger_verifies(assembly):
    board, members = assembly
    vote = _propose(board)
    _vote_all(vote, members, ["yes", "no", "yes"])
    counted = _close(vote)
    publish_checkpoint()
    bundle = get_ledger().bundle(counted.result_ledger_index)
    verified = verify_bundle(bundle, Verifier.parse(verifier_key()))
    entry = decode_entry(get_ledger().entry_bytes(counted.result_ledger_index))
    assert verified is not None and entry.kind == "vote.counted"
    data = entry.data
    assert (data["outcome"], data["yes"], data["no"], data["abstain"]) == ("passed", 2, 1, 0)
    assert data["electorate"] == 8 and data["changes"] == {"pay_floor_cents_per_hour": 1400}
    published = [c for chunk in data["commitments"] for c in chunk]
    assert published == sorted(published) and len(published) == 3
    assert data["commitments_sha256"] == ops.commitments_digest(published)
    # Who voted, and how, is not on the ledger.
    text = json.dumps(data)
    assert not any(m.pseudonym in text for m in members)


def test_a_members_receipt_checks_against_the_published_commitments(assembly):
    board, members = assembly
    vote = _propose(board)
    _vote_all(vote, members, ["yes", "no", "yes"])
    before = queries.receipt(members[1].id, vote)
    assert before.counted is None and before.choice == "no"
    counted = _close(vote)
    mine = queries.receipt(members[1].id, counted)
    assert mine.counted is True
    # Anyone holding the nonce recomputes the commitment from the preimage shown to them.
    import hashlib

    assert hashlib.sha256(mine.preimage.encode()).hexdigest() == mine.commitment
    assert mine.commitment in ops.published_commitments(counted)
    # A forged choice does not match any published commitment.
    forged = ops.commitment(vote.id, mine.nonce, "yes")
    assert forged not in ops.published_commitments(counted)
    assert queries.receipt(members[5].id, counted) is None  # did not vote


def test_many_ballots_fill_the_ledgers_lists_in_pages(assembly, monkeypatch):
    board, members = assembly
    monkeypatch.setattr(ops, "COMMITMENTS_PER_LIST", 2)
    monkeypatch.setattr(ops, "COMMITMENTS_PER_ENTRY", 4)
    vote = _propose(board)
    _vote_all(vote, [board, *members], ["yes"] * 8)
    counted = _close(vote)
    result = Event.get(Event.ledger_index == counted.result_ledger_index).payload
    assert len(result["commitment_entries"]) == 2
    assert len(ops.published_commitments(counted)) == 8
    assert queries.receipt(members[0].id, counted).counted is True


def test_a_passed_vote_whose_values_break_a_rule_now_changes_nothing(assembly):
    from coop.board.operations import update_parameters

    board, members = assembly
    vote = _propose(board, "allocation", {"dividends_bp": 2000}, fiscal_year=2026)
    _vote_all(vote, members, ["yes"] * 7)
    # Meanwhile the reserves and the work share take the whole surplus but the 10 % dividends:
    # 20 % dividends no longer fit.
    update_parameters(board, {"legal_reserve_bp": 6000, "work_share_bp": 3000})
    counted = _close(vote)
    assert (counted.outcome, counted.applied) == ("passed", False)
    assert current().dividends_bp == 1000


def test_proposals_are_checked(assembly):
    board, members = assembly
    now = utcnow()
    later = now + timedelta(days=1)
    with pytest.raises(DomainError, match="close after"):
        ops.propose(board, "parameters", "T", {"margin_bp": 700}, now, now)
    with pytest.raises(DomainError, match="cannot change"):
        ops.propose(board, "parameters", "T", {"dividends_bp": 700}, later, now)
    with pytest.raises(DomainError, match="fiscal year"):
        ops.propose(board, "allocation", "T", {"dividends_bp": 700}, later, now)
    with pytest.raises(DomainError, match="changes nothing"):
        ops.propose(board, "parameters", "T", {"margin_bp": 800}, later, now)
    with pytest.raises(ops.InvalidParameters):
        ops.propose(board, "allocation", "T", {"legal_reserve_bp": 1000}, later, now,
                    fiscal_year=2026)
    with pytest.raises(DomainError, match="Only the board"):
        ops.propose(members[0], "parameters", "T", {"margin_bp": 700}, later, now)
    assert not Vote.select().exists()


def test_the_count_waits_for_the_close_and_happens_once(assembly):
    board, members = assembly
    vote = _propose(board)
    with pytest.raises(Conflict):
        ops.count(vote, utcnow(), actor=board)
    assert tick(utcnow()).votes_counted == 0
    report = tick(vote.closes_at + timedelta(minutes=1))
    assert report.votes_counted == 1
    assert tick(vote.closes_at + timedelta(minutes=2)).votes_counted == 0
    with pytest.raises(Conflict):
        ops.count(Vote.get_by_id(vote.id), vote.closes_at + timedelta(minutes=3), actor=board)
    assert Event.select().where(Event.kind == "vote.counted").count() == 1


def test_two_racing_ballots_of_one_member_make_one_ballot(app, assembly, backend):
    if backend == "sqlite":
        pytest.skip("the race needs two connections to a server; SQLite serialises writers")
    board, members = assembly
    vote = _propose(board)
    barrier = threading.Barrier(2)
    errors = []

    def cast(choice):
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                ops.cast_ballot(members[0], vote, choice, utcnow())
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                database.close()

    threads = [threading.Thread(target=cast, args=(c,)) for c in ("yes", "no")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Ballot.select().where(Ballot.member == members[0].id).count() == 1
