"""The quality pages as people use them: a member who misses a gold item is shown the expected
answer and its explanation at once, finds it listed on the project's quality page and contests
it there; the client sees accuracy under pseudonyms with n and the interval, sets the rules and
decides; the member appeals and the board decides; bad input is refused with a 400 and changes
nothing; a member cut off is told why when the next item is refused."""

import pytest
from projects_support import PRICE, comments, jsonl, make_project

from coop.models import Event, Parameter
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerEarning
from coop.quality.models import ContestState, GoldContest

WHY = "Calling someone an idiot is an insult under rule 2."


@pytest.fixture
def setup(app, make_client_user, make_member, make_board):
    client, member, board = make_client_user(), make_member(), make_board()
    with app.test_request_context():
        project = make_project(client, items=0, publish=False, budget_cents=PRICE * 50)
        rows = [dict(c, gold_answer={"label": "remove"}, gold_explanation=WHY)
                for c in comments(3, 100)] + comments(2)
        ops.upload_items(client, project, jsonl(rows), "items.jsonl")
        Parameter.create(key="quality_min_gold_answers", value="1")
        ops.publish_project(client, project)
    return app, client, member, board, project


def _answer_keep(app, member, project):
    web = app.test_client(user=member)
    response = web.post(f"/projects/{project.id}/start")
    lease = ops.current_assignment(member, project)
    response = web.post(f"/assignments/{lease.id}/answer", data={"label": "keep"},
                        follow_redirects=True)
    return web, lease, response


def test_a_missed_gold_is_explained_listed_and_contested(setup):
    app, client, member, board, project = setup
    web = app.test_client(user=client)
    response = web.post(f"/projects/{project.id}/quality/rules",
                        data={"gold_rate_pct": 100, "threshold_pct": 70, "min_gold_answers": 3})
    assert response.status_code == 302
    member_web, lease, response = _answer_keep(app, member, project)
    page = response.get_data(as_text=True)
    assert "expected answer was label: remove" in page and WHY in page
    page = member_web.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert "0% (0 of 1 gold items)" in page and WHY in page
    answer_id = Answer.get(Answer.assignment == lease.id).id
    response = member_web.post(f"/gold-answers/{answer_id}/contest", data={"reason": "short"})
    assert response.status_code == 400 and GoldContest.select().count() == 0
    response = member_web.post(f"/gold-answers/{answer_id}/contest",
                               data={"reason": "This comment quotes an insult to report it."})
    assert response.status_code == 302
    contest = GoldContest.get()
    page = web.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert "This comment quotes an insult to report it." in page
    response = web.post(f"/gold-contests/{contest.id}/decide",
                        data={"decision": "upheld", "note": "Quoting an insult repeats it."})
    assert response.status_code == 302
    assert GoldContest.get().state == ContestState.UPHELD
    page = member_web.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert "Quote" not in page and "the client kept the expected answer" in page
    assert "Quoting an insult repeats it." in page and "Appeal to the board" in page
    page = web.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert member.pseudonym in page and "0%–79%" in page  # n = 1, Wilson's interval
    response = member_web.post(f"/gold-contests/{contest.id}/appeal",
                               data={"reason": "Reporting an insult is not insulting anyone."})
    assert response.status_code == 302
    board_web = app.test_client(user=board)
    assert "Reporting an insult" in board_web.get("/board/gold-appeals").get_data(as_text=True)
    response = board_web.post(f"/board/gold-appeals/{contest.id}/decide",
                              data={"decision": "wrong", "note": "A quote is not an insult."})
    assert response.status_code == 302
    assert GoldContest.get().state == ContestState.FOUND_WRONG
    kinds = [e.kind for e in Event.select().order_by(Event.id)]
    assert [k for k in kinds if k.startswith("gold.")] == [
        "gold.contested", "gold.contest_decided", "gold.appealed", "gold.appeal_decided"]


def test_bad_rules_are_refused_and_change_nothing(setup):
    app, client, member, board, project = setup
    web = app.test_client(user=client)
    for data in ({"gold_rate_pct": 10, "threshold_pct": 95, "min_gold_answers": 5},
                 {"gold_rate_pct": "x", "threshold_pct": 50, "min_gold_answers": 5}):
        assert web.post(f"/projects/{project.id}/quality/rules", data=data).status_code == 400
    assert not Event.select().where(Event.kind == "project.quality_rules_set").exists()


def test_a_member_cut_off_is_told_why(setup):
    app, client, member, board, project = setup
    web = app.test_client(user=client)
    web.post(f"/projects/{project.id}/quality/rules",
             data={"gold_rate_pct": 100, "threshold_pct": 70, "min_gold_answers": 3})
    member_web = app.test_client(user=member)
    member_web.post(f"/projects/{project.id}/start")
    for _ in range(3):
        lease = ops.current_assignment(member, project)
        response = member_web.post(f"/assignments/{lease.id}/answer", data={"label": "keep"},
                                   follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "below the client&#39;s threshold of 70%" in page
    assert ops.current_assignment(member, project) is None
    page = member_web.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert "You receive no more items of this project" in page
    assert Answer.select().where(Answer.member == member.id).count() == 3
    with app.test_request_context():
        ops.accept_answers(client, project)
    assert AnswerEarning.select().where(AnswerEarning.member == member.id).count() == 3


def test_the_board_bounds_the_threshold(setup):
    from test_board_parameters import form_data

    app, client, member, board, project = setup
    board_web = app.test_client(user=board)
    response = board_web.post("/board/parameters", data=form_data(quality_threshold_max_bp="60"))
    assert response.status_code == 302
    web = app.test_client(user=client)
    data = {"gold_rate_pct": 10, "threshold_pct": 70, "min_gold_answers": 10}
    assert web.post(f"/projects/{project.id}/quality/rules", data=data).status_code == 400
    data["threshold_pct"] = 60
    assert web.post(f"/projects/{project.id}/quality/rules", data=data).status_code == 302


def test_each_sees_only_their_own(setup, make_member):
    app, client, member, board, project = setup
    web = app.test_client(user=client)
    web.post(f"/projects/{project.id}/quality/rules",
             data={"gold_rate_pct": 100, "threshold_pct": 0, "min_gold_answers": 3})
    _answer_keep(app, member, project)
    other = app.test_client(user=make_member())
    page = other.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert "You have answered no gold item that counts yet." in page and WHY not in page
    page = web.get(f"/projects/{project.id}/quality").get_data(as_text=True)
    assert member.pseudonym in page and member.email not in page and member.name not in page
    answer = Answer.get(Answer.member == member.id)
    response = other.post(f"/gold-answers/{answer.id}/contest",
                          data={"reason": "Somebody else's gold answer, contested."})
    assert response.status_code == 404 and not GoldContest.select().exists()
