"""A project's aggregated answers: which methods fit its template, and every item's aggregate.

The client chooses the method in each download (`?method=`); without one, labels (classify,
compare, check) are aggregated by majority vote and free text (transcribe, text) by the answer
most similar to the others. Rejected answers never count.

`aggregated_lines` is the client's per-item download: one JSON line per item with its
aggregated answer, the confidence, the method, the gold flag and the individual answers.
"""

import json
from collections.abc import Iterator

from flask_babel import gettext as _

from coop.db import database
from coop.errors import DomainError
from coop.models import User
from coop.projects.models import UNCOUNTED, Answer, Item, Project
from coop.projects.templates import Kind
from coop.quality.aggregate import NOTHING, Method, Vote, aggregate

BATCH = 500
FREE_TEXT = (Kind.TRANSCRIBE, Kind.TEXT)


def methods_for(project: Project) -> tuple[Method, ...]:
    """Return the methods that fit the project's answers, the default first.

    Dawid–Skene learns how each member confuses labels, so it needs answers from a fixed list;
    on free text every answer is its own label and only the most similar one makes sense
    (majority vote still finds answers given word for word alike).
    """
    if project.template_data["kind"] in FREE_TEXT:
        return (Method.MOST_SIMILAR, Method.MAJORITY)
    return (Method.MAJORITY, Method.DAWID_SKENE)


def choose_method(project: Project, raw: str | None) -> Method:
    """Return the method asked for (None or "": the project's default).

    :raises DomainError: the method is unknown or does not fit the project's answers.
    """
    allowed = methods_for(project)
    if not raw:
        return allowed[0]
    if raw not in allowed:
        raise DomainError(
            _("method must be one of %(methods)s for this project.",
              methods=", ".join(m.value for m in allowed)),
            field="method",
        )
    return Method(raw)


def counted_answers(project: Project, below: int | None = None,
                    through: int | None = None):
    """Return the query of the answers an aggregate counts: neither rejected nor voided, below
    the ledger index `below` (a results file's cut) and up to the answer id `through`."""
    query = Answer.select().where(
        (Answer.project == project.id) & Answer.state.not_in(UNCOUNTED)
    )
    if below is not None:
        query = query.where(Answer.ledger_index < below)
    if through is not None:
        query = query.where(Answer.id <= through)
    return query


def item_votes(project: Project, method: Method, below: int | None = None,
               through: int | None = None) -> dict[int, Vote]:
    """Return each answered item's aggregate by id, from its counted answers (counted_answers:
    given `below`, those whose ledger index is below it, the answers of a results file).

    Dawid–Skene learns from all the items together, so every counted answer is read at once;
    equal answers share one parsed object, so labels cost little memory however many.
    """
    query = counted_answers(project, below, through).select(
        Answer.item, User.pseudonym, Answer.data
    ).join(User, on=(Answer.member == User.id)).order_by(Answer.ledger_index, Answer.id)
    parsed: dict[str, dict] = {}
    by_item: dict[int, list[tuple[str, dict]]] = {}
    # Through the driver's cursor: peewee's conversion of each value was a third of the time
    # of aggregating 282,000 answers (the columns are an integer and two texts as stored).
    for item_id, member, data in database.execute_sql(*query.sql()):
        answer = parsed.get(data)
        if answer is None:
            answer = parsed[data] = json.loads(data)
        by_item.setdefault(item_id, []).append((member, answer))
    ids = list(by_item)
    return dict(zip(ids, aggregate(method, [by_item[i] for i in ids]), strict=True))


def _items(project: Project) -> Iterator[list[Item]]:
    last = 0
    while True:
        batch = list(
            Item.select(Item.id, Item.external_id, Item.gold_state)
            .where((Item.project == project.id) & (Item.id > last))
            .order_by(Item.id)
            .limit(BATCH)
        )
        if not batch:
            return
        yield batch
        last = batch[-1].id


def aggregated_lines(project: Project, method: Method,
                     votes: dict[int, Vote] | None = None) -> Iterator[bytes]:
    """Yield one JSON line per item of the project, in item order (votes: the aggregates
    already computed, as coop/quality/aggregate_cache.py keeps them for large projects)."""
    if votes is None:
        votes = item_votes(project, method)
    for items in _items(project):
        by_item: dict[int, list] = {item.id: [] for item in items}
        answers = (
            Answer.select(Answer.item, Answer.data, User.pseudonym)
            .join(User, on=(Answer.member == User.id))
            .where(Answer.item.in_(list(by_item)) & Answer.state.not_in(UNCOUNTED))
            .order_by(Answer.ledger_index)
        )
        for answer in answers:
            by_item[answer.item_id].append((answer.member.pseudonym, json.loads(answer.data)))
        chunk = []
        for item in items:
            vote = votes.get(item.id, NOTHING)
            chunk.append(json.dumps({
                "external_id": item.external_id,
                "answer": vote.answer,
                "confidence": round(vote.confidence, 4),
                "votes": vote.votes,
                "method": method.value,
                "gold": bool(item.gold_state),
                "answers": [{"member": m, "answer": a} for m, a in by_item[item.id]],
            }, ensure_ascii=False, sort_keys=True) + "\n")
        yield "".join(chunk).encode("utf-8")
