"""Reads for the project pages and downloads, handed to templates as plain values."""

import json
from dataclasses import dataclass

from peewee import fn

from coop import params as params_module
from coop.models import User
from coop.projects.models import (
    Answer,
    AnswerEarning,
    AnswerState,
    Assignment,
    AssignmentState,
    Item,
    Project,
    ProjectState,
)
from coop.projects.operations import median_seconds, minimum_item_price, net_of, net_per_hour
from coop.projects.templates import Media, item_fields

REVIEW_PAGE = 50


@dataclass(frozen=True)
class ProjectStats:
    """The client's figures for a project."""

    items: int
    wanted: int
    answered: int
    pending: int
    accepted: int
    rejected: int
    skipped: int
    median_seconds: int | None
    net_cents: int
    net_per_hour_cents: int | None
    spent_cents: int
    budget_cents: int
    margin_bp: int
    minimum_price_cents: int


def _margin_and_floor(project: Project) -> tuple[int, int]:
    if project.margin_bp is not None:
        return project.margin_bp, project.floor_cents_per_hour
    params = params_module.current()
    return params.margin_bp, params.pay_floor_cents_per_hour


def project_stats(project: Project) -> ProjectStats:
    by_state = dict(
        Answer.select(Answer.state, fn.COUNT(Answer.id))
        .where(Answer.project == project.id)
        .group_by(Answer.state)
        .tuples()
    )
    skipped = (
        Assignment.select()
        .where(
            (Assignment.project == project.id) & (Assignment.state == AssignmentState.SKIPPED)
        )
        .count()
    )
    median = median_seconds(project)
    margin, floor = _margin_and_floor(project)
    net = net_of(project.price_cents, margin)
    spent = (
        AnswerEarning.select(fn.COALESCE(fn.SUM(AnswerEarning.price_cents), 0))
        .where(AnswerEarning.project == project.id)
        .scalar()
    )
    return ProjectStats(
        items=project.items_count,
        wanted=project.items_count * project.overlap,
        answered=sum(by_state.values()),
        pending=by_state.get(AnswerState.PENDING, 0),
        accepted=by_state.get(AnswerState.ACCEPTED, 0),
        rejected=by_state.get(AnswerState.REJECTED, 0),
        skipped=skipped,
        median_seconds=median,
        net_cents=net,
        net_per_hour_cents=net_per_hour(net, median) if median else None,
        spent_cents=int(spent or 0),
        budget_cents=project.budget_cents,
        margin_bp=margin,
        minimum_price_cents=minimum_item_price(
            floor, margin, max(project.estimated_seconds, median or 0)
        ),
    )


@dataclass(frozen=True)
class ProjectRow:
    id: int
    title: str
    state: str
    items: int
    price_cents: int
    net_cents: int
    estimated_seconds: int
    net_per_hour_cents: int
    sensitive: bool
    content_note: str
    deadline: object


def project_row(project: Project) -> ProjectRow:
    margin, _floor = _margin_and_floor(project)
    net = net_of(project.price_cents, margin)
    return ProjectRow(
        id=project.id,
        title=project.title,
        state=project.state,
        items=project.items_count,
        price_cents=project.price_cents,
        net_cents=net,
        estimated_seconds=project.estimated_seconds,
        net_per_hour_cents=net_per_hour(net, project.estimated_seconds),
        sensitive=project.sensitive,
        content_note=project.content_note,
        deadline=project.deadline,
    )


def projects_for_client(client: User) -> list[ProjectRow]:
    query = Project.select().where(
        (Project.client == client.id) & (Project.is_test == False)  # noqa: E712 (peewee)
    ).order_by(Project.id.desc())
    return [project_row(p) for p in query]


def projects_for_member(member: User) -> list[ProjectRow]:
    """Published projects the member may work on (sensitive ones only with the opt-in)."""
    query = Project.select().where(
        (Project.state == ProjectState.PUBLISHED) & (Project.is_test == False)  # noqa: E712
    )
    if not member.sensitive_opt_in:
        query = query.where(Project.sensitive == False)  # noqa: E712 (peewee expression)
    return [project_row(p) for p in query.order_by(Project.id.desc())]


@dataclass(frozen=True)
class ItemView:
    """What the item partial shows: each field's text, or the URL of its media."""

    item_id: int
    external_id: str
    texts: dict
    media: dict  # field -> (kind, url, content_type)


def item_view(project: Project, item: Item, media_url) -> ItemView:
    """Build the item partial's values; media_url(project_id, item_id, field) makes URLs."""
    data, stored = item.data_dict, item.media_dict
    texts, media = {}, {}
    for name, kind in item_fields(project.template_data).items():
        if kind == Media.TEXT:
            texts[name] = data.get(name, "")
        elif name in stored:
            media[name] = (kind.value, media_url(project.id, item.id, name),
                           stored[name]["content_type"])
    return ItemView(item.id, item.external_id, texts, media)


def my_answers_count(member: User, project: Project) -> int:
    return Answer.select().where(
        (Answer.project == project.id) & (Answer.member == member.id)
    ).count()


def first_item(project: Project) -> Item | None:
    return Item.select().where(Item.project == project.id).order_by(Item.id).first()


@dataclass(frozen=True)
class ReviewRow:
    id: int
    external_id: str
    answer: dict
    member: str
    seconds: int
    state: str
    reject_reason: str


def review_page(project: Project, page: int) -> tuple[list[ReviewRow], bool]:
    """Return a page of the project's answers, pending first, and whether more follow."""
    query = (
        Answer.select(Answer, Item.external_id, User.pseudonym)
        .join(Item, on=(Answer.item == Item.id))
        .switch(Answer)
        .join(User, on=(Answer.member == User.id))
        .where(Answer.project == project.id)
        .order_by(Answer.state != AnswerState.PENDING, Answer.id)
        .paginate(page, REVIEW_PAGE + 1)
    )
    rows = [
        ReviewRow(
            a.id, a.item.external_id, json.loads(a.data), a.member.pseudonym, a.seconds,
            a.state, a.reject_reason,
        )
        for a in query
    ]
    return rows[:REVIEW_PAGE], len(rows) > REVIEW_PAGE
