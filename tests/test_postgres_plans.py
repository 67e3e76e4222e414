"""On PostgreSQL, every query the busiest pages run can be answered from an index: with
sequential scans priced out (`enable_seqscan = off`), the planner still picks a full scan of a
table that grows with the coop only when no index serves the query. Small tables (parameters,
periods) may be scanned. The pages: the board and a task (members), a project's work and
answer loop, the client's dashboard and project pages, the board's pages."""

import logging
import re

import pytest
from conftest import login_client
from projects_support import make_project

from coop.db import database, is_sqlite

# Tables that grow with the coop's activity: a full scan of one is a page that slows down as
# the coop lives.
GROWING = {
    "task", "bid", "delivery", "delivery_file", "earning", "event", "user", "dispute",
    "notification", "project", "item", "assignment", "answer", "answer_earning",
    "ledger_entry", "ledger_hash", "ledger_checkpoint", "job", "capital_movement",
    "task_attachment", "rejection_review", "gold_contest",
}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


def _selects(records) -> list[tuple[str, tuple]]:
    seen, found = set(), []
    for record in records:
        if not isinstance(record.msg, tuple):
            continue
        sql, params = record.msg
        if sql.lstrip().upper().startswith("SELECT") and (sql, tuple(params or ())) not in seen:
            seen.add((sql, tuple(params or ())))
            found.append((sql, tuple(params or ())))
    return found


def _full_scans(queries) -> list[str]:
    scans = []
    with database.atomic():
        database.execute_sql("SET LOCAL enable_seqscan = off")
        for sql, params in queries:
            plan = "\n".join(row[0] for row in database.execute_sql("EXPLAIN " + sql, params))
            for table in SEQ_SCAN.findall(plan):
                if table in GROWING:
                    scans.append(f"{table}: {sql[:300]}")
    return scans


def test_the_busiest_pages_need_no_full_scan_of_a_growing_table(
    app, backend, make_client_user, make_member, make_board, make_task, caplog
):
    if backend != "postgres" or is_sqlite():
        pytest.skip("a PostgreSQL plan check")
    client, member, board = make_client_user(), make_member(), make_board()
    task = make_task(client)
    with app.test_request_context():
        project = make_project(client, items=20, overlap=1)
    as_member, as_client = login_client(app, member), login_client(app, client)
    as_board = login_client(app, board)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        for path in ("/", f"/tasks/{task.id}", "/my-work", "/projects",
                     f"/projects/{project.id}", "/notifications"):
            assert as_member.get(path).status_code == 200, path
        started = as_member.post(f"/projects/{project.id}/start")
        assert started.status_code == 200
        answer = re.search(r'action="(/assignments/\d+/answer)"', started.get_data(as_text=True))
        assert as_member.post(answer.group(1), data={"label": "keep"}).status_code == 200
        for path in ("/client", f"/projects/{project.id}", f"/projects/{project.id}/answers"):
            assert as_client.get(path).status_code == 200, path
        for path in ("/board/", "/board/members", "/board/disputes", "/ledger"):
            assert as_board.get(path).status_code == 200, path
    queries = _selects(caplog.records)
    assert len(queries) > 30, "the pages' queries were not seen"
    database.connect(reuse_if_open=True)
    assert _full_scans(queries) == []
