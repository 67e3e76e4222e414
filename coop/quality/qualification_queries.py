"""Reads for the qualification pages, as plain values.

What each person sees, by the rule the guides state: a member sees their own standing and their
own test results; a client sees its qualifications and how many members hold each now, never
who, nor anybody's results; the board sees the same of the coop's qualifications.
"""

from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from coop.models import User
from coop.projects.models import Answer, Assignment, Item, Project
from coop.projects.operations import net_of
from coop.quality import gold
from coop.quality.models import Qualification, Requirement, Sitting
from coop.quality.qualifications import retake_from
from coop.quality.sittings import holding


@dataclass(frozen=True)
class QualificationRow:
    id: int
    name: str
    description: str
    by_coop: bool
    owner_name: str
    items: int
    pass_mark_pct: int
    validity_days: int
    retake_days: int
    net_cents: int  # what a member earns per test item
    estimated_seconds: int
    instructions: str


def row(qualification: Qualification) -> QualificationRow:
    test: Project = qualification.test
    return QualificationRow(
        id=qualification.id,
        name=qualification.name,
        description=qualification.description,
        by_coop=qualification.owner_id is None,
        owner_name="" if qualification.owner_id is None else qualification.owner.name,
        items=test.items_count,
        pass_mark_pct=qualification.pass_mark_bp // 100,
        validity_days=qualification.validity_days,
        retake_days=qualification.retake_days,
        net_cents=net_of(test.price_cents, test.margin_bp or 0),
        estimated_seconds=test.estimated_seconds,
        instructions=test.instructions,
    )


@dataclass(frozen=True)
class Standing:
    """A member's standing on one qualification: only ever shown to that member."""

    held_until: datetime | None
    open_sitting: bool
    last_correct: int | None
    last_total: int | None
    last_passed: bool | None
    retake_from: datetime | None  # None: may start now


def standing(member: User, qualification: Qualification, now: datetime) -> Standing:
    held = holding(member, qualification, now)
    sittings = list(
        Sitting.select()
        .where((Sitting.qualification == qualification.id) & (Sitting.member == member.id))
        .order_by(Sitting.number.desc())
    )
    finished = [s for s in sittings if s.finished_at is not None]
    last = finished[0] if finished else None
    after = retake_from(member, qualification)
    return Standing(
        held_until=held.expires_at if held else None,
        open_sitting=any(s.finished_at is None for s in sittings),
        last_correct=last.correct if last else None,
        last_total=last.total if last else None,
        last_passed=last.passed if last else None,
        retake_from=after if after is not None and after > now else None,
    )


def _order(query):
    return query.order_by(Qualification.owner.is_null(False), Qualification.name)


def visible_to(viewer: User) -> list[Qualification]:
    """Return the qualifications a viewer's page lists: all for members, the coop's and their
    own for a client, the coop's for the board."""
    query = Qualification.select()
    if viewer.is_client:
        query = query.where(Qualification.owner.is_null() | (Qualification.owner == viewer.id))
    elif not viewer.is_member:
        query = query.where(Qualification.owner.is_null())
    return list(_order(query))


def holders(qualification: Qualification, now: datetime) -> int:
    """Return how many members hold the qualification now (a count, never who)."""
    return (
        Sitting.select(fn.COUNT(fn.DISTINCT(Sitting.member)))
        .where((Sitting.qualification == qualification.id)
               & (Sitting.passed == True)  # noqa: E712 (peewee expression)
               & (Sitting.expires_at > now))
        .scalar()
    ) or 0


@dataclass(frozen=True)
class TestAnswer:
    external_id: str
    given: str
    correct: bool
    explanation: str  # for a missed item only


def last_results(member: User, qualification: Qualification) -> list[TestAnswer]:
    """Return the member's answers in their last finished sitting, the missed ones explained.

    The expected answer itself is not shown: the same items come back at a retake.
    """
    last = (
        Sitting.select()
        .where((Sitting.qualification == qualification.id) & (Sitting.member == member.id)
               & Sitting.finished_at.is_null(False))
        .order_by(Sitting.number.desc())
        .first()
    )
    if last is None:
        return []
    rows = (
        Answer.select(Answer.data, Answer.gold_correct, Item.external_id, Item.gold_explanation)
        .join(Assignment, on=(Answer.assignment == Assignment.id))
        .switch(Answer)
        .join(Item, on=(Answer.item == Item.id))
        .where((Assignment.project == qualification.test_id)
               & (Assignment.member == member.id) & (Assignment.sitting == last.number))
        .order_by(Item.id)
    )
    return [
        TestAnswer(
            external_id=a.item.external_id,
            given=gold.describe(a.data),
            correct=bool(a.gold_correct),
            explanation="" if a.gold_correct else a.item.gold_explanation,
        )
        for a in rows
    ]


@dataclass(frozen=True)
class Required:
    id: int
    name: str
    held_until: datetime | None  # the member's own, on the member's page
    holders: int  # how many hold it now, on the client's page


def required_for(viewer: User, project: Project, now: datetime) -> list[Required]:
    """Return the project's required qualifications as the viewer may see them."""
    rows = (
        Qualification.select()
        .join(Requirement, on=(Requirement.qualification == Qualification.id))
        .where(Requirement.project == project.id)
        .order_by(Qualification.name)
    )
    found = []
    for qualification in rows:
        if project.client_id == viewer.id:
            found.append(Required(qualification.id, qualification.name, None,
                                  holders(qualification, now)))
        else:
            held = holding(viewer, qualification, now) if viewer.is_member else None
            found.append(Required(qualification.id, qualification.name,
                                  held.expires_at if held else None, 0))
    return found


def requirable(client: User, project: Project) -> list[tuple[int, str]]:
    """Return (id, name) of the qualifications the client may still require on the project."""
    taken = Requirement.select(Requirement.qualification).where(Requirement.project == project.id)
    query = Qualification.select(Qualification.id, Qualification.name).where(
        (Qualification.owner.is_null() | (Qualification.owner == client.id))
        & ~(Qualification.id.in_(taken))
    )
    return [(q.id, q.name) for q in _order(query)]
