"""Handing out the next item does not read every lease of the project: on SQLite, the query
that expires overdue leases starts from the few active leases (the state index), not from the
project's index, which holds every answered lease too (hundreds of thousands on a big
project)."""

import logging

import pytest
from projects_support import make_project

from coop.db import database, is_sqlite
from coop.projects import operations as ops


def test_expiring_leases_starts_from_the_active_ones(app, make_client_user, make_member,
                                                     caplog):
    if not is_sqlite():
        pytest.skip("PostgreSQL plans from its statistics")
    with app.test_request_context():
        project = make_project(make_client_user(), items=3, overlap=1)
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert ops.next_assignment(make_member(), project) is not None
    expiring = [
        record.msg for record in caplog.records
        if isinstance(record.msg, tuple) and record.msg[0].startswith("SELECT")
        and '"assignment"' in record.msg[0] and "expires_at" in record.msg[0]
        and "state" in record.msg[0] and "member_id" not in record.msg[0]
    ]  # fmt: skip
    assert expiring, "no query expiring leases was seen"
    for sql, params in expiring:
        plan = " ".join(row[-1] for row in database.execute_sql(
            "EXPLAIN QUERY PLAN " + sql, params).fetchall())  # fmt: skip
        assert "assignment_project_id" not in plan, plan


def test_next_item_finds_the_members_past_leases_through_the_member(app, make_client_user,
                                                                      make_member, caplog):
    """The items a member already had are read through the member's index, not the project's
    (which held 282,000 leases in bench/projects.py: 46 ms per next item)."""
    if not is_sqlite():
        pytest.skip("PostgreSQL plans from its statistics")
    with app.test_request_context():
        project = make_project(make_client_user(), items=3, overlap=1)
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert ops.next_assignment(make_member(), project) is not None
    choosing = [
        record.msg for record in caplog.records
        if isinstance(record.msg, tuple) and "NOT IN (SELECT item_id FROM assignment"
        in record.msg[0]
    ]  # fmt: skip
    assert choosing, "no query choosing the next item was seen"
    for sql, params in choosing:
        plan = " ".join(row[-1] for row in database.execute_sql(
            "EXPLAIN QUERY PLAN " + sql, params).fetchall())  # fmt: skip
        assert "assignment_project_id" not in plan, plan
        assert "assignment_member_id" in plan, plan
