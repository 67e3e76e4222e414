"""Agreement on the client's quality page: Krippendorff's alpha (nominal) matches the textbook
example (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability": 0.743), is undefined
rather than made up when nothing can be measured, and the confusion against gold counts, per
expected answer, the answers members gave. The client sees both on the project's quality page;
a member's quality page does not show other members' answers."""

import math

from projects_support import PRICE, comments, jsonl, make_project

from coop.projects import operations as ops
from coop.quality import operations as quality
from coop.quality.agreement import COLUMNS, alpha, confusion

# Four observers (rows) value twelve units (columns); None: no value given.
TEXTBOOK = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_alpha_matches_the_textbook_example():
    units = [[str(row[u]) for row in TEXTBOOK if row[u] is not None] for u in range(12)]
    assert round(alpha(units), 3) == 0.743
    # The order of units and of values within them does not matter.
    assert math.isclose(alpha([list(reversed(u)) for u in reversed(units)]), alpha(units))


def test_alpha_is_undefined_rather_than_made_up():
    assert alpha([]) is None
    assert alpha([["a"], ["b"]]) is None  # no item answered twice
    assert alpha([["a", "a"], ["a", "a", "a"]]) is None  # one value: nothing to compare
    assert alpha([["a", "a"], ["b", "b"], ["c"]]) == 1.0
    assert alpha([["a", "b"], ["b", "a"]]) < 0


def test_confusion_counts_given_answers_per_expected_answer():
    pairs = [("keep", "keep"), ("keep", "remove"), ("remove", "remove"), ("keep", "keep")]
    table = confusion(pairs, [True, False, True, True])
    assert table.columns == ["keep", "remove"] and not table.other
    assert [(r.expected, r.given, r.correct, r.total, r.percent) for r in table.rows] == [
        ("keep", [2, 1], 2, 3, 67), ("remove", [0, 1], 1, 1, 100)]
    many = confusion([("x", f"y{i}") for i in range(20)], [False] * 20)
    assert len(many.columns) == COLUMNS - 1 and many.other
    assert many.rows[0].given[-1] == 20 - (COLUMNS - 1)  # the rest, added up


def test_the_client_sees_agreement_and_confusion(app, make_client_user, make_member):
    client = make_client_user()
    members = [make_member() for _ in range(3)]
    with app.test_request_context():
        project = make_project(client, items=0, publish=False, overlap=3,
                               budget_cents=PRICE * 30)
        rows = comments(2) + [dict(comments(1, 5)[0], gold_answer={"label": "keep"},
                                   gold_explanation="A plain opinion is kept.")]
        ops.upload_items(client, project, jsonl(rows), "items.jsonl")
        quality.set_quality_rules(client, project, gold_rate_bp=0, accuracy_threshold_bp=0,
                                  min_gold_answers=10)
        project = ops.publish_project(client, project)
        # Each member answers c0, c1, then the gold item c5; the third always says remove.
        for n, member in enumerate(members):
            for _ in range(3):
                form = {"label": ["remove"], "reason": ["rude"]} if n == 2 else {
                    "label": ["keep"]}
                ops.submit_answer(member, ops.next_assignment(member, project), form)
    page = app.test_client(user=client).get(f"/projects/{project.id}/quality")
    text = page.get_data(as_text=True)
    # Units c0, c1, c5 each: keep, keep, remove. By hand: 9 values, 6 keep and 3 remove;
    # coincidences per unit keep–remove 2·1/(3−1) = 1 each way, so observed disagreement
    # 6/9; expected 2·6·3/(9·8) = 1/2; alpha = 1 − (6/9)/(1/2) = −1/3.
    assert math.isclose(alpha([["keep", "keep", "remove"]] * 3), -1 / 3)
    assert "Krippendorff's alpha: -0.33 over 3 items" in text
    assert "instructions or the labels are probably unclear" in text
    assert "Answers to gold items" in text
    assert "<th>label: keep</th><td>2</td><td>1</td><td>67% (2/3)</td>" in text
    assert "dawid_skene" in text
    member_page = app.test_client(user=members[0]).get(f"/projects/{project.id}/quality")
    assert "Krippendorff" not in member_page.get_data(as_text=True)
