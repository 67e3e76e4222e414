"""Helpers for the project tests: a project made through the operations, items as JSONL."""

import io
import json
from datetime import timedelta

from coop.models import utcnow
from coop.projects import operations as ops

MODERATION = {
    "kind": "classify",
    "text_field": "comment",
    "labels": ["keep", "remove"],
    "reason_for": ["remove"],
}
PRICE = 20  # cents per answer: 18 net after the 8% margin, 21.60 €/h for 30 s
SECONDS = 30


def jsonl(rows) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())


def comments(n: int, start: int = 0) -> list[dict]:
    return [{"external_id": f"c{i}", "comment": f"Comment number {i}"} for i in range(start,
                                                                                    start + n)]


def make_project(client, items: int = 3, overlap: int = 1, publish: bool = True, **overrides):
    fields = dict(
        title="Moderate comments",
        instructions="Remove insults and spam; keep the rest.",
        template=MODERATION,
        price_cents=PRICE,
        estimated_seconds=SECONDS,
        overlap=overlap,
        deadline=utcnow() + timedelta(days=7),
        budget_cents=PRICE * max(items, 1) * overlap * 2,
    )
    fields.update(overrides)
    project = ops.create_project(client, **fields)
    if items:
        report = ops.upload_items(client, project, jsonl(comments(items)), "items.jsonl")
        assert report.ok, report.errors
    if publish:
        project = ops.publish_project(client, project)
    return project


def keep() -> dict:
    return {"label": ["keep"]}
