"""The vote pages: the board proposes on the web with times in its own time zone, members
vote and change their ballot, reading a closed vote never counts it, the board's button does,
and each member's page then says their ballot was counted. Bad input changes nothing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from coop.governance.models import Ballot, Vote
from coop.models import Event, utcnow
from coop.params import current

FORMAT = "%Y-%m-%dT%H:%M"


def _local(moment: datetime, zone: str) -> str:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).strftime(FORMAT)


def _proposal(**overrides):
    data = {
        "kind": "parameters",
        "title": "A fairer floor",
        "pay_floor_cents_per_hour": "13.50",
        "closes_at": _local(utcnow() + timedelta(days=3), "Europe/Paris"),
    }
    data.update(overrides)
    return data


def test_a_vote_from_proposal_to_counted_result(app, make_board, make_member):
    board = make_board(timezone="Europe/Paris")
    alice, bob = make_member(), make_member()
    as_board = app.test_client(user=board)
    closes = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    response = as_board.post("/board/votes", data=_proposal(
        closes_at=_local(closes, "Europe/Paris")))
    assert response.status_code == 302, response.text
    vote = Vote.get()
    assert vote.closes_at == closes  # typed in Paris time, stored in UTC
    assert vote.changes_data == {"pay_floor_cents_per_hour": 1350}

    as_alice, as_bob = app.test_client(user=alice), app.test_client(user=bob)
    listing = as_alice.get("/votes").text
    assert "A fairer floor" in listing and "You have not voted yet." in listing
    page = as_alice.get(f"/votes/{vote.id}").text
    assert "€12.00" in page and "€13.50" in page
    assert as_alice.post(f"/votes/{vote.id}/ballot", data={"choice": "no"}).status_code == 302
    assert as_alice.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 302
    assert as_bob.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 302
    assert Ballot.select().count() == 2
    mine = Ballot.get(Ballot.member == alice.id)
    page = as_alice.get(f"/votes/{vote.id}").text
    assert mine.nonce in page and mine.commitment in page and "Change my ballot" in page
    assert mine.nonce not in as_bob.get(f"/votes/{vote.id}").text  # nobody sees another's

    Vote.update(closes_at=utcnow() - timedelta(minutes=1)).execute()  # time passes
    page = as_alice.get(f"/votes/{vote.id}").text
    assert "waiting for the count" in page
    assert Vote.get().counted_at is None  # a GET never counts
    refused = as_bob.post(f"/votes/{vote.id}/ballot", data={"choice": "no"})
    assert refused.status_code == 409 and "This vote is closed" in refused.text
    assert Ballot.get(Ballot.member == bob.id).choice == "yes"

    assert as_board.post(f"/board/votes/{vote.id}/count").status_code == 302
    assert Vote.get().outcome == "passed" and current().pay_floor_cents_per_hour == 1350
    page = as_alice.get(f"/votes/{vote.id}").text
    assert "Your ballot was counted" in page
    index = Event.get(Event.kind == "vote.counted").ledger_index
    assert f"#{index}" in page


def test_bad_proposals_change_nothing(app, make_board):
    board = make_board()
    as_board = app.test_client(user=board)
    past = _local(utcnow() - timedelta(days=1), "Europe/Paris")
    cases = [
        _proposal(closes_at=past),  # closes before it opens
        _proposal(title=""),
        _proposal(pay_floor_cents_per_hour="lots"),
        _proposal(pay_floor_cents_per_hour="", margin_bp=""),  # changes nothing
        _proposal(kind="allocation", dividends_bp="5"),  # no fiscal year
        _proposal(kind="allocation", fiscal_year="2026", legal_reserve_bp="10"),  # art. 33
        _proposal(kind="coup"),
        _proposal(opens_at=_local(utcnow() - timedelta(days=2), "Europe/Paris")),
    ]
    for data in cases:
        response = as_board.post("/board/votes", data=data)
        assert response.status_code == 400, data
    assert not Vote.select().exists()
    assert "Loi 78-763, art. 33" in as_board.post("/board/votes", data=cases[5]).text


def test_a_bad_ballot_changes_nothing(app, make_board, make_member):
    from coop.governance.operations import propose

    now = utcnow()
    vote = propose(make_board(), "parameters", "Margin", {"margin_bp": 700},
                   now + timedelta(days=1), now)
    as_member = app.test_client(user=make_member())
    assert as_member.post(f"/votes/{vote.id}/ballot", data={"choice": "maybe"}).status_code == 400
    assert as_member.post("/votes/999/ballot", data={"choice": "yes"}).status_code == 404
    assert not Ballot.select().exists()


def test_every_member_reads_the_result_entry_and_no_client_does(
    app, make_board, make_member, make_client_user
):
    from coop.governance.operations import count, propose

    now = utcnow()
    vote = propose(make_board(), "parameters", "Margin", {"margin_bp": 700},
                   now + timedelta(hours=1), now)
    counted = count(vote, now + timedelta(hours=2))
    url = f"/ledger/entries/{counted.result_ledger_index}"
    assert app.test_client(user=make_member()).get(url).status_code == 200
    assert app.test_client(user=make_client_user()).get(url).status_code == 404
