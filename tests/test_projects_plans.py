"""Handing out the next item does not read every lease of the project: on SQLite, the query
that expires overdue leases starts from the few active leases (the state index), and the
query choosing the item finds the member's past leases through the member's index; neither
goes through the project's index, which holds every answered lease too (hundreds of thousands
on a big project)."""

import logging

import pytest
from projects_support import make_project

from coop.db import database, is_sqlite
from coop.projects import operations as ops


def _plans_of_next_item(app, client, member, caplog, wanted) -> list[str]:
    """Hand out an item; return SQLite's plans of the SELECTs for which wanted(sql) holds."""
    if not is_sqlite():
        pytest.skip("PostgreSQL plans from its statistics")
    with app.test_request_context():
        project = make_project(client, items=3, overlap=1)
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert ops.next_assignment(member, project) is not None
    queries = [
        record.msg for record in caplog.records
        if isinstance(record.msg, tuple) and record.msg[0].startswith("SELECT")
        and wanted(record.msg[0])
    ]  # fmt: skip
    assert queries, "no such query was seen"
    return [
        " ".join(row[-1] for row in database.execute_sql(
            "EXPLAIN QUERY PLAN " + sql, params).fetchall())  # fmt: skip
        for sql, params in queries
    ]


def test_expiring_leases_starts_from_the_active_ones(app, make_client_user, make_member,
                                                     caplog):
    plans = _plans_of_next_item(
        app, make_client_user(), make_member(), caplog,
        lambda sql: '"assignment"' in sql and "expires_at" in sql and "state" in sql
        and "member_id" not in sql,
    )
    for plan in plans:
        assert "assignment_project_id" not in plan, plan


def test_next_item_finds_the_members_past_leases_through_the_member(app, make_client_user,
                                                                      make_member, caplog):
    """bench/projects.py measured 46 ms per next item through the project's index, with
    282,000 leases in the project."""
    plans = _plans_of_next_item(
        app, make_client_user(), make_member(), caplog,
        lambda sql: "NOT IN (SELECT item_id FROM assignment" in sql,
    )
    for plan in plans:
        assert "assignment_project_id" not in plan, plan
        assert "assignment_member_id" in plan, plan
