"""Fair assignment: a project may keep its last answers for members who worked less this week.

The rule, said the same way on the project page and in the refusal: on a project with
fair_share on, once no more than params.fair_share_bp of its answers are left to hand out, only
members who have worked fewer than params.fair_share_hours this week (tasks taken, at their
estimate, plus project items answered, at their measured time, since Monday in the coop's time
zone) receive its items. The reserve lapses RELEASE_HOURS before the deadline, so the client's
project is still done when nobody below the hours comes.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import ngettext
from peewee import fn

from coop import calendar
from coop import params as params_module
from coop.errors import DomainError
from coop.models import User
from coop.projects.models import Answer, Item, Project

RELEASE_HOURS = 24


class Reserved(DomainError):
    """Only the reserved share of the project is left, and the member worked enough this week."""

    status = 403


def week_minutes(member: User, now: datetime) -> int:
    """Return the minutes the member worked this week: tasks taken plus items answered."""
    from coop.market.operations import task_minutes

    since = calendar.iso_week(now).start
    seconds = (
        Answer.select(fn.COALESCE(fn.SUM(Answer.seconds), 0))
        .where((Answer.member == member.id) & (Answer.submitted_at >= since))
        .scalar()
    )
    return task_minutes(member.id, since) + int(seconds or 0) // 60


def reserved_answers(project: Project, share_bp: int) -> int:
    """Return how many of the project's answers are kept for members who worked less."""
    return math.ceil(project.items_count * project.overlap * share_bp / 10_000)


def left_to_hand_out(project: Project) -> int:
    """Return the answers the project still has to hand out (not answered, not leased)."""
    total = (
        Item.select(fn.COALESCE(fn.SUM(Item.free), 0))
        .where((Item.project == project.id) & (Item.free > 0))
        .scalar()
    )
    return int(total or 0)


@dataclass(frozen=True)
class Rule:
    """The fair-share rule of a project as people read it."""

    share_pct: str
    reserved: int
    hours: int
    release_hours: int


def rule(project: Project) -> Rule | None:
    """Return the project's fair-share rule, or None when the project does not reserve."""
    if not project.fair_share:
        return None
    params = params_module.current()
    return Rule(
        share_pct=f"{params.fair_share_bp / 100:g}",
        reserved=reserved_answers(project, params.fair_share_bp),
        hours=params.fair_share_hours,
        release_hours=RELEASE_HOURS,
    )


def check(member: User, project: Project, now: datetime) -> None:
    """Refuse the member an item of the reserve when they worked the hours this week or more.

    Called under the project's lock, so two members racing for the last items see the same
    count: the reserve holds under concurrency.

    :raises Reserved: saying the share, the hours and the member's own hours.
    """
    if not project.fair_share or project.deadline - now <= timedelta(hours=RELEASE_HOURS):
        return
    params = params_module.current()
    reserved = reserved_answers(project, params.fair_share_bp)
    if not reserved or left_to_hand_out(project) > reserved:
        return
    worked = week_minutes(member, now)
    if worked < params.fair_share_hours * 60:
        return
    raise Reserved(
        ngettext(
            "The last %(share)s%% of this project's answers are kept for members who have "
            "worked less than %(num)s hour this week, and you have worked %(worked)s h: "
            "thank you, and leave these to them.",
            "The last %(share)s%% of this project's answers are kept for members who have "
            "worked less than %(num)s hours this week, and you have worked %(worked)s h: "
            "thank you, and leave these to them.",
            params.fair_share_hours,
            share=f"{params.fair_share_bp / 100:g}",
            worked=f"{worked / 60:.1f}".removesuffix(".0"),
        )
    )
