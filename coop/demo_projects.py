"""Demo micro-task projects, made through the project operations like the web's.

Two projects in progress — a newspaper's comment moderation (sensitive) and a search-relevance
batch — and one finished transcription project, with answers on the ledger, reviews and pay.
"""

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from coop.demo_data import comments as comment_data
from coop.demo_data import relevance as relevance_data
from coop.models import User
from coop.projects import operations as ops
from coop.projects.models import Answer, Assignment, Project

CLIPS = Path(comment_data.__file__).parent / "clips"

# What a moderator answers for each kind of comment the demo's author wrote.
REMOVAL_REASONS = {
    "spam": "Publicité ou lien commercial.",
    "insulting": "Insulte envers une personne.",
    "distressing": "Menace ou description de violence.",
}


def _jsonl(rows: list[dict]) -> io.BytesIO:
    lines = (json.dumps(row, ensure_ascii=False) for row in rows)
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def _work(member: User, project: Project, answer_for, seconds_for) -> Answer | None:
    """Lease the member's next item and answer it as answer_for(item) says; None when none left.

    answer_for returns the form values, or a skip reason as a string.
    """
    lease = ops.next_assignment(member, project)
    if lease is None:
        return None
    reply = answer_for(lease.item)
    if isinstance(reply, str):
        ops.skip_item(member, lease, reply)
        return _work(member, project, answer_for, seconds_for)
    # A demo answers in milliseconds; moving the lease's start back gives the server a
    # realistic time to measure, so the project pages show a believable median and €/h.
    Assignment.update(
        started_at=lease.started_at - timedelta(seconds=seconds_for(lease.item))
    ).where(Assignment.id == lease.id).execute()
    return ops.submit_answer(member, Assignment.get_by_id(lease.id), reply)


def _seconds(low: int, spread: int):
    return lambda item: low + (item.id * 7) % spread


def _moderation(m: dict[str, User], news: User, now: datetime) -> Project:
    """The newspaper's comments: 40 of 200 answered, most accepted, one rejected."""
    project = ops.create_project(
        news,
        title="Modérer 200 commentaires de lecteurs",
        instructions=(
            "Lisez chaque commentaire publié sous nos articles. Gardez (keep) les avis, "
            "questions et critiques, même vives. Supprimez (remove) les insultes, menaces, "
            "publicités et données personnelles, et dites en quelques mots pourquoi."
        ),
        template={
            "kind": "classify",
            "text_field": "comment",
            "labels": ["keep", "remove"],
            "reason_for": ["remove"],
        },
        price_cents=10,
        estimated_seconds=20,
        deadline=now + timedelta(days=10),
        budget_cents=2_500,
        sensitive=True,
        content_note="Quelques commentaires contiennent des menaces et des insultes.",
    )
    comments = comment_data.comments()
    kinds = {c.external_id: c.kind for c in comments}
    ops.upload_items(
        news,
        project,
        _jsonl([{"external_id": c.external_id, "comment": c.text, "article": c.article}
                for c in comments]),
        "comments.jsonl",
    )
    ops.publish_project(news, project)

    def answer(item):
        kind = kinds[item.external_id]
        if kind in REMOVAL_REASONS:
            return {"label": ["remove"], "reason": [REMOVAL_REASONS[kind]]}
        return {"label": ["keep"]}

    # Only alice and chloe accept sensitive work (see demo.MEMBERS). Alice keeps one spam
    # comment by mistake (the client rejects it); chloe skips one threat.
    slipped, skipped = [], []

    def alice_answer(item):
        if kinds[item.external_id] == "spam" and not slipped:
            slipped.append(item.external_id)
            return {"label": ["keep"]}
        return answer(item)

    def chloe_answer(item):
        if kinds[item.external_id] == "distressing" and not skipped:
            skipped.append(item.external_id)
            return "distressing"
        return answer(item)

    answers = []
    for _round in range(20):
        answers.append(_work(m["alice"], project, alice_answer, _seconds(9, 12)))
        answers.append(_work(m["chloe"], project, chloe_answer, _seconds(8, 14)))
    # The client rejects the kept spam, accepts the rest of the first 30 in bulk; the last
    # ten still wait for review.
    wrong = next(a for a in answers if a.item.external_id == slipped[0])
    accepted = [a.id for a in answers[:30] if a.id != wrong.id]
    ops.accept_answers(news, project, accepted)
    ops.reject_answer(
        news,
        Answer.get_by_id(wrong.id),
        "instructions",
        "Ce commentaire fait la publicité d'un site : la charte demande de le supprimer.",
    )
    return project


def _relevance(m: dict[str, User], shop: User, now: datetime) -> Project:
    """The shop's query/product pairs, two judgements wanted each, partly answered."""
    project = ops.create_project(
        shop,
        title="Pertinence de la recherche : requête et produit",
        instructions=(
            "Un client a tapé la requête de gauche. Le produit de droite répond-il à sa "
            "recherche ? Exact : c'est ce qu'il cherche. Proche : une variante acceptable. "
            "Lié : même univers, mais pas ce qu'il veut. Sans rapport : hors sujet."
        ),
        template={
            "kind": "compare",
            "media": "text",
            "left_field": "query",
            "right_field": "product",
            "scale": list(relevance_data.SCALE),
        },
        price_cents=6,
        estimated_seconds=12,
        overlap=2,
        deadline=now + timedelta(days=14),
        budget_cents=1_000,
    )
    pairs = relevance_data.pairs()
    ops.upload_items(
        shop,
        project,
        _jsonl([{"external_id": p.external_id, "query": p.query, "product": p.product}
                for p in pairs]),
        "pairs.jsonl",
    )
    ops.publish_project(shop, project)
    # The pairs come in fours, from the exact match to the unrelated product.
    position = {p.external_id: n % len(relevance_data.SCALE) for n, p in enumerate(pairs)}

    def judge(item):
        return {"choice": [relevance_data.SCALE[position[item.external_id]]]}

    done = [_work(m["david"], project, judge, _seconds(5, 8)) for _ in range(24)]
    done += [_work(m["emma"], project, judge, _seconds(6, 9)) for _ in range(10)]
    ops.accept_answers(shop, project, [a.id for a in done[:12]])
    return project


def _clips_zip() -> tuple[list[dict], io.BytesIO]:
    """Return the clips' rows (with their reference sentence) and the zip of their audio."""
    with open(CLIPS / "transcripts.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    media = io.BytesIO()
    with zipfile.ZipFile(media, "w", zipfile.ZIP_STORED) as archive:
        for row in rows:
            archive.write(CLIPS / row["audio"], row["audio"])
    media.seek(0)
    return rows, media


def _transcription(m: dict[str, User], bank: User, now: datetime) -> Project:
    """Eight voicemail clips, every one transcribed and accepted: a finished project."""
    project = ops.create_project(
        bank,
        title="Transcrire 8 messages vocaux de clients",
        instructions=(
            "Écoutez le message et écrivez exactement ce qui est dit, avec la ponctuation. "
            "Les nombres s'écrivent en lettres, comme ils sont prononcés."
        ),
        template={"kind": "transcribe", "media": "audio", "field": "audio",
                  "min_length": 5, "max_length": 500},
        price_cents=25,
        estimated_seconds=45,
        deadline=now + timedelta(days=5),
        budget_cents=400,
    )
    rows, media = _clips_zip()
    reference = {row["external_id"]: row["reference"] for row in rows}
    items = _jsonl([{"external_id": r["external_id"], "audio": r["audio"]} for r in rows])
    ops.upload_items(bank, project, items, "clips.jsonl", media)
    ops.publish_project(bank, project)

    def transcribe(item):
        return {"text": [reference[item.external_id]]}

    for member in (m["bob"], m["bob"], m["bob"], m["bob"], m["emma"], m["emma"], m["emma"],
                   m["emma"]):
        _work(member, project, transcribe, _seconds(25, 15))
    ops.accept_answers(bank, project)
    return project


def load(members: dict[str, User], clients: dict[str, User], now: datetime) -> list[Project]:
    """Create the demo projects; return them (moderation, relevance, transcription)."""
    return [
        _moderation(members, clients["news"], now),
        _relevance(members, clients["shop"], now),
        _transcription(members, clients["bank"], now),
    ]
