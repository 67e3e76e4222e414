"""Races: twenty members claiming one task at once leave exactly one winner and nineteen
Conflicts; a client awarding twenty bids of one task at once awards exactly one. Each thread
has its own database connection, on SQLite (a file database) and on PostgreSQL."""

import threading
from datetime import timedelta

from coop.db import database
from coop.errors import Conflict
from coop.market import operations as ops
from coop.models import Bid, BidState, Event, Task, TaskState, utcnow

THREADS = 20


def race(app, work) -> list:
    """Run work(i) in THREADS threads released together; return each result or exception."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(i):
        with app.test_request_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                results[i] = work(i)
            except Exception as error:  # the outcome under test, kept for the assertions
                results[i] = error
            finally:
                database.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_claims_one_winner(app, make_member, make_task):
    task = make_task()
    members = [make_member() for _ in range(THREADS)]
    database.close()  # the threads use their own connections

    results = race(app, lambda i: ops.claim_task(members[i], task.id))

    database.connect(reuse_if_open=True)
    winners = [r for r in results if isinstance(r, Task)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == THREADS - 1, results
    assert {str(e) for e in losers} == {"Someone else claimed this task first."}
    stored = Task.get_by_id(task.id)
    assert stored.state == TaskState.ASSIGNED
    assert stored.member_id == winners[0].member_id
    assert Event.select().where(Event.kind == "task.awarded").count() == 1


def test_twenty_awards_one_winner(app, make_member, make_client_user):
    client = make_client_user()
    with app.test_request_context():
        task = ops.post_task(
            client,
            title="Clip 30 product photos",
            description="White background.",
            instructions="",
            category="photo_clipping",
            estimated_minutes=60,
            deadline=utcnow() + timedelta(days=2),
            pricing="bids",
            budget_cents=3000,
            bidding_deadline=utcnow() + timedelta(days=1),
        )
        bids = [
            ops.place_bid(make_member(), task.id, amount_cents=1500 + i, eta_hours=4)
            for i in range(THREADS)
        ]
    database.close()

    results = race(app, lambda i: ops.award_bid(client, bids[i].id))

    database.connect(reuse_if_open=True)
    winners = [r for r in results if isinstance(r, Task)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Task)), results
    states = [b.state for b in Bid.select()]
    assert states.count(BidState.AWARDED) == 1
    assert states.count(BidState.NOT_SELECTED) == THREADS - 1
    awarded = Bid.get(Bid.state == BidState.AWARDED)
    stored = Task.get_by_id(task.id)
    assert (stored.member_id, stored.price_cents) == (awarded.member_id, awarded.amount_cents)
    assert Event.select().where(Event.kind == "task.awarded").count() == 1


def test_one_member_racing_for_several_tasks_stays_within_the_limit(app, make_member, make_task):
    """The member's row lock (PostgreSQL) or the write lock (SQLite) serialises the limits."""
    from coop.models import Parameter

    Parameter.create(key="max_active_tasks", value=2)
    member = make_member()
    tasks = [make_task() for _ in range(THREADS)]
    database.close()

    race(app, lambda i: ops.claim_task(member, tasks[i].id))

    database.connect(reuse_if_open=True)
    held = Task.select().where(Task.member == member.id).count()
    assert held == 2
