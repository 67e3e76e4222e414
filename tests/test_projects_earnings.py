"""Answer earnings in the month close: accepted answers count in the month their acceptance
went on the ledger, one statement line per member and project (answers, measured minutes,
billed, earned), added to the member's and the coop's totals; a rejected answer earns
nothing; the member's statement names the project."""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from projects_support import PRICE, keep, make_project

from coop.models import utcnow
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerEarning
from coop.statements import operations as statements
from coop.statements.models import Statement


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def test_a_month_close_counts_accepted_answers(make_client_user, make_member, make_board,
                                                tmp_path):
    client, ada, bo = make_client_user(), make_member(), make_member()
    project = make_project(client, items=3)
    for member in (ada, ada, bo):
        lease = ops.next_assignment(member, project)
        ops.submit_answer(member, lease, keep())
    Answer.update(seconds=90).execute()
    first, second, third = Answer.select().order_by(Answer.id)
    ops.accept_answers(client, project, [first.id, second.id])
    ops.reject_answer(client, third, "wrong", "This comment is spam, remove it.")

    month = statements.current_month()
    figures = statements.compute(month).figures
    totals = figures["totals"]
    net = PRICE - 2
    assert (totals["gross_cents"], totals["earnings_cents"], totals["margins_cents"]) == (
        2 * PRICE, 2 * net, 4)
    assert totals["earnings_by_category"] == {"projects": 2 * net}
    [ada_figures] = [m for m in figures["members"] if m["member_id"] == ada.id]
    assert (ada_figures["earnings_cents"], ada_figures["minutes"]) == (2 * net, 3)
    assert all(m["member_id"] != bo.id for m in figures["members"])
    [line] = statements.compute(month).tasks_by_member[ada.id]
    assert (line["project_id"], line["answers"], line["price_cents"]) == (project.id, 2, 40)

    _name, pdf = statements.member_pdf(make_board(), month, ada.id, draft=True, locale="en")
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert f"Project #{project.id}, 2" in text  # the narrow column wraps "answers"

    # Closed once the month has ended: the frozen figures keep the project's line.
    start, end = statements.month_bounds(month)
    after = datetime.fromtimestamp(end // 10**9, UTC).replace(tzinfo=None) + timedelta(hours=1)
    period = statements.close_month(make_board(), month, now=after)
    frozen = Statement.get((Statement.period == period) & (Statement.member == ada.id))
    assert frozen.figures_data["tasks"][0]["project_id"] == project.id


def test_answers_accepted_in_another_month_are_not_counted(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project = make_project(client, items=1)
    ops.submit_answer(member, ops.next_assignment(member, project), keep())
    ops.accept_answers(client, project)
    last_month = int((utcnow() - timedelta(days=40)).timestamp() * 1e9)
    AnswerEarning.update(unix_ns=last_month).execute()
    assert statements.compute(statements.current_month()).figures["totals"]["gross_cents"] == 0
