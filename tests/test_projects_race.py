"""Fifty members racing over a 100-item project that wants 3 answers per item, each thread
on its own database connection, on SQLite and PostgreSQL: every item ends with exactly 3
answers, no member answers an item twice, no lease is left open, and every answer has its
ledger entry."""

import threading

from projects_support import keep, make_project

from coop.db import database
from coop.models import Event
from coop.projects import operations as ops
from coop.projects.models import Answer, Assignment, AssignmentState, Item, Project, ProjectState

MEMBERS = 50
ITEMS = 100
OVERLAP = 3


def test_fifty_members_never_over_answer_an_item(app, make_client_user, make_member):
    with app.test_request_context():
        project = make_project(make_client_user(), items=ITEMS, overlap=OVERLAP)
    members = [make_member() for _ in range(MEMBERS)]
    database.close()  # the threads use their own connections
    barrier = threading.Barrier(MEMBERS)
    failures: list = []

    def work(member):
        with app.test_request_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                lease = ops.next_assignment(member, project)
                while lease is not None:
                    lease = ops.answer_and_next(member, lease, keep())[1].assignment
            except Exception as error:  # kept for the assertion below
                failures.append(error)
            finally:
                database.close()

    threads = [threading.Thread(target=work, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    database.connect(reuse_if_open=True)
    assert failures == []
    counts = [(i.answers_count, i.active_count, i.free) for i in Item.select()]
    assert counts == [(OVERLAP, 0, 0)] * ITEMS
    per_item = {}
    for answer in Answer.select(Answer.item, Answer.member):
        per_item.setdefault(answer.item_id, []).append(answer.member_id)
    assert sorted(len(v) for v in per_item.values()) == [OVERLAP] * ITEMS
    assert all(len(set(v)) == len(v) for v in per_item.values())
    assert Assignment.select().where(Assignment.state == AssignmentState.ACTIVE).count() == 0
    assert Event.select().where(Event.kind == "answer.submitted").count() == ITEMS * OVERLAP
    assert Project.get_by_id(project.id).state == ProjectState.FINISHED
