"""Aggregation for overlap > 1. Majority vote: the answer most members gave wins (reasons and
case aside), ties go to the answer given first, confidence is the winner's share. Free text: the
answer most like the others wins. On a seeded simulated crowd with careless members Dawid–Skene
is at least as accurate as the majority vote. The client's aggregated download gives per item
the aggregated answer by the method asked, its confidence, the gold flag and every answer,
leaving rejected answers out."""

import json
import random

import pytest
from projects_support import PRICE, comments, jsonl, keep, make_project

from coop.projects import operations as ops
from coop.projects.models import Answer
from coop.quality import operations as quality
from coop.quality.aggregate import Method, aggregate, majority_vote, most_similar


def test_majority_vote_ignores_reasons_and_case():
    vote = majority_vote([
        {"label": "remove", "reason": "insult"},
        {"label": "keep"},
        {"label": "remove", "reason": "spam"},
    ])
    assert (vote.answer, round(vote.confidence, 3), vote.votes) == ({"label": "remove"}, 0.667, 3)
    assert majority_vote([{"text": "Hello  World"}, {"text": "hello world"}]).confidence == 1.0


def test_ties_go_to_the_first_answer_and_nothing_is_nothing():
    assert majority_vote([{"choice": "B"}, {"choice": "A"}]).answer == {"choice": "B"}
    assert majority_vote([]).answer is None


def test_majority_beats_single_answers_on_a_simulated_crowd():
    rng = random.Random(10)
    labels = ["a", "b", "c", "d"]
    skill = [rng.uniform(0.55, 0.95) for _ in range(30)] + [0.0] * 10  # 10 answer at random
    single = majority = 0
    for _ in range(1_000):
        truth = rng.choice(labels)
        given = [
            {"label": truth if rng.random() < skill[m] else rng.choice(labels)}
            for m in rng.sample(range(40), 5)
        ]
        single += given[0]["label"] == truth
        majority += majority_vote(given).answer == {"label": truth}
    assert majority > single + 100 and majority > 850


def test_most_similar_picks_the_text_closest_to_the_others():
    vote = most_similar([
        {"text": "The cat sat on a mat"},
        {"text": "A dog barked loudly"},
        {"text": "the cat sat on  the mat"},
        {"text": "The cat sat on the hat"},
    ])
    assert vote.answer == {"text": "the cat sat on  the mat"} and vote.votes == 4
    assert 0.6 < vote.confidence < 0.8
    # Ties (two answers, each as like the other) go to the first; one answer is its own best.
    assert most_similar([{"text": "yes"}, {"text": "no"}]).answer == {"text": "yes"}
    assert most_similar([{"text": "alone", "reason": "x"}]) == (
        most_similar([{"text": "alone"}]))
    assert most_similar([]).answer is None


def test_dawid_skene_at_least_as_accurate_as_majority_on_a_careless_crowd():
    rng = random.Random(4)
    labels = ["a", "b", "c", "d"]
    careless = set(rng.sample(range(20), 5))
    skill = [rng.uniform(0.55, 0.95) for _ in range(20)]
    truth, items = [], []
    for _ in range(300):
        label = rng.choice(labels)
        truth.append({"label": label})
        items.append([
            (f"m{m}", {"label": rng.choice(labels)
                       if m in careless or rng.random() > skill[m] else label})
            for m in rng.sample(range(20), 5)
        ])

    def right(method):
        return sum(v.answer == t for v, t in zip(aggregate(method, items), truth, strict=True))

    majority, dawid_skene = right(Method.MAJORITY), right(Method.DAWID_SKENE)
    assert dawid_skene >= majority and majority > 250


@pytest.fixture
def project(app, make_client_user, make_member):
    client = make_client_user()
    members = [make_member() for _ in range(3)]
    with app.test_request_context():
        project = make_project(client, items=0, publish=False, overlap=3,
                               budget_cents=PRICE * 30)
        rows = comments(1) + [dict(comments(1, 5)[0], gold_answer={"label": "keep"})]
        ops.upload_items(client, project, jsonl(rows), "items.jsonl")
        # No gold drawn first: each member answers c0, then c5.
        quality.set_quality_rules(client, project, gold_rate_bp=0, accuracy_threshold_bp=0,
                                  min_gold_answers=10)
        project = ops.publish_project(client, project)
        forms = [keep(), {"label": ["remove"], "reason": ["rude"]}, {"label": ["remove"],
                                                                      "reason": ["spam"]}]
        for member, form in zip(members, forms, strict=True):
            for _ in range(2):
                ops.submit_answer(member, ops.next_assignment(member, project), form)
        last = Answer.select().order_by(Answer.id.desc()).first()
        ops.reject_answer(client, last, "wrong", "This is plainly not spam at all.")
    return client, members, project


def test_the_aggregated_download(app, project):
    client, members, project = project
    response = app.test_client(user=client).get(f"/projects/{project.id}/aggregated.jsonl")
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [(r["external_id"], r["gold"], r["votes"]) for r in lines] == [
        ("c0", False, 3), ("c5", True, 2)]
    assert lines[0]["answer"] == {"label": "remove"} and lines[0]["confidence"] == 0.6667
    assert lines[1]["answer"] == {"label": "keep"}  # a tie: the first answer given
    assert [a["member"] for a in lines[0]["answers"]] == [m.pseudonym for m in members]
    other = app.test_client(user=members[0]).get(f"/projects/{project.id}/aggregated.jsonl")
    assert other.status_code == 403


def test_the_client_chooses_the_method(app, project):
    client, _members, project = project
    web = app.test_client(user=client)
    url = f"/projects/{project.id}/aggregated.jsonl"
    lines = [json.loads(line) for line in web.get(url + "?method=dawid_skene").data.splitlines()]
    assert [(r["external_id"], r["method"]) for r in lines] == [
        ("c0", "dawid_skene"), ("c5", "dawid_skene")]
    assert lines[0]["answer"] == {"label": "remove"} and 0.5 < lines[0]["confidence"] <= 1
    refused = web.get(url + "?method=most_similar")
    assert refused.status_code == 400 and "majority, dawid_skene" in refused.get_data(as_text=True)


def test_results_rows_carry_the_gold_flag_and_the_aggregate(app, project):
    from coop.audit import ledger as app_ledger

    client, _members, project = project
    with app.test_request_context():
        app_ledger.publish_checkpoint()
    rows = [json.loads(line) for line in
            app.test_client(user=client).get(f"/projects/{project.id}/results.jsonl").data
            .splitlines()]
    gold = {r["external_id"]: r["gold"] for r in rows}
    assert gold == {"c0": False, "c5": True}
    c5 = [r for r in rows if r["external_id"] == "c5"]
    # The rejected answer is in the file but not in the aggregate: one keep, one remove.
    assert [r["status"] for r in c5].count("rejected") == 1
    assert {(r["aggregate"]["label"], r["confidence"]) for r in c5} == {("keep", 0.5)}


def test_free_text_defaults_to_the_most_similar_answer(app, make_client_user, make_member):
    client = make_client_user()
    template = {"kind": "text", "field": "comment", "min_length": 1, "max_length": 200}
    with app.test_request_context():
        project = make_project(client, items=1, overlap=4, template=template)
        for text in ("The cat sat on a mat", "A dog barked loudly", "the cat sat on  the mat",
                     "The cat sat on the hat"):
            member = make_member()
            ops.submit_answer(member, ops.next_assignment(member, project), {"text": [text]})
    web = app.test_client(user=client)
    url = f"/projects/{project.id}/aggregated.jsonl"
    (line,) = [json.loads(line) for line in web.get(url).data.splitlines()]
    assert line["method"] == "most_similar"
    assert line["answer"] == {"text": "the cat sat on  the mat"}
    assert web.get(url + "?method=dawid_skene").status_code == 400
    assert json.loads(web.get(url + "?method=majority").data)["method"] == "majority"
