"""A project's aggregated results: one JSON line per item with its majority answer, the
confidence, the gold flag and the individual answers (rejected answers are left out).

Streamed item by item in batches, so memory stays flat in the number of items.
"""

import json
from collections.abc import Iterator

from coop.models import User
from coop.projects.models import Answer, AnswerState, Item, Project
from coop.quality.aggregate import majority_vote

BATCH = 500


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


def aggregated_lines(project: Project) -> Iterator[bytes]:
    """Yield one JSON line per item of the project, in item order."""
    for items in _items(project):
        by_item: dict[int, list] = {item.id: [] for item in items}
        answers = (
            Answer.select(Answer.item, Answer.data, User.pseudonym)
            .join(User, on=(Answer.member == User.id))
            .where(Answer.item.in_(list(by_item)) & (Answer.state != AnswerState.REJECTED))
            .order_by(Answer.ledger_index)
        )
        for answer in answers:
            by_item[answer.item_id].append((answer.member.pseudonym, json.loads(answer.data)))
        chunk = []
        for item in items:
            given = by_item[item.id]
            vote = majority_vote(a for _member, a in given)
            chunk.append(json.dumps({
                "external_id": item.external_id,
                "answer": vote.answer,
                "confidence": round(vote.confidence, 4),
                "votes": vote.votes,
                "method": "majority",
                "gold": bool(item.gold_state),
                "answers": [{"member": m, "answer": a} for m, a in given],
            }, ensure_ascii=False, sort_keys=True) + "\n")
        yield "".join(chunk).encode("utf-8")
