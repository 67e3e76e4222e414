"""Exposure to sensitive content in projects: the daily cap shared with tasks, and breaks.

Tasks count the estimated minutes of sensitive tasks taken today; projects count the measured
time of answers on sensitive projects. Both add up against params.sensitive_minutes_per_day
(UTC day). After sensitive_break_minutes of sensitive answers in a row (gaps shorter than the
break), the member is asked to rest sensitive_pause_minutes before the next sensitive item.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from peewee import fn

from coop import params as params_module
from coop.errors import DomainError
from coop.models import User
from coop.projects.models import Answer, Assignment, Project

RUN_LOOKBACK = 500  # answers read back to find the current run (a run this long is capped)


class BreakNeeded(DomainError):
    """The member has worked long enough on sensitive items: a pause comes first."""

    status = 200

    def __init__(self, message: str, until: datetime):
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class Exposure:
    """A member's sensitive minutes: today and this week (tasks' estimates + answers measured)."""

    today_minutes: int
    week_minutes: int
    cap_minutes: int


def _day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def answer_seconds(member_id: int, since: datetime) -> int:
    """Return the measured seconds of member's answers on sensitive projects since a time."""
    total = (
        Answer.select(fn.COALESCE(fn.SUM(Answer.seconds), 0))
        .join(Project, on=(Answer.project == Project.id))
        .where(
            (Answer.member == member_id)
            & (Answer.submitted_at >= since)
            & (Project.sensitive == True)  # noqa: E712 (peewee expression)
        )
        .scalar()
    )
    return int(total or 0)


def _task_minutes(member_id: int, since: datetime) -> int:
    from coop.market.operations import sensitive_task_minutes

    return sensitive_task_minutes(member_id, since)


def exposure(member: User, now: datetime) -> Exposure:
    day = _day(now)
    week = day - timedelta(days=now.isoweekday() - 1)
    return Exposure(
        today_minutes=_task_minutes(member.id, day) + answer_seconds(member.id, day) // 60,
        week_minutes=_task_minutes(member.id, week) + answer_seconds(member.id, week) // 60,
        cap_minutes=params_module.current().sensitive_minutes_per_day,
    )


def _run(member_id: int, now: datetime, pause: timedelta) -> tuple[int, datetime | None]:
    """Return (seconds, last answer time) of the member's current run of sensitive answers."""
    rows = (
        Answer.select(Answer.seconds, Answer.submitted_at, Assignment.started_at)
        .join(Project, on=(Answer.project == Project.id))
        .switch(Answer)
        .join(Assignment, on=(Answer.assignment == Assignment.id))
        .where(
            (Answer.member == member_id)
            & (Answer.submitted_at >= _day(now) - pause)
            & (Project.sensitive == True)  # noqa: E712 (peewee expression)
        )
        .order_by(Answer.submitted_at.desc())
        .limit(RUN_LOOKBACK)
    )
    seconds, last, earliest_start = 0, None, None
    for answer in rows:
        submitted = answer.submitted_at
        if last is None:
            last = submitted
        elif earliest_start - submitted >= pause:
            break  # a long enough gap: the run starts after it
        seconds += answer.seconds
        earliest_start = answer.assignment.started_at
    return seconds, last


def check(member: User, project: Project, now: datetime) -> None:
    """Refuse the next sensitive item past the daily cap, or ask for a break.

    :raises DomainError: the daily cap would be passed by this item's estimated time.
    :raises BreakNeeded: the member has worked sensitive_break_minutes in a row.
    """
    if not project.sensitive:
        return
    params = params_module.current()
    day = _day(now)
    taken = _task_minutes(member.id, day) * 60 + answer_seconds(member.id, day)
    if taken + project.estimated_seconds > params.sensitive_minutes_per_day * 60:
        raise DomainError(
            _(
                "The limit for sensitive content is %(cap)s minutes a day (UTC day): you have "
                "spent %(taken)s minutes on it today. Come back tomorrow.",
                cap=params.sensitive_minutes_per_day,
                taken=taken // 60,
            )
        )
    pause = timedelta(minutes=params.sensitive_pause_minutes)
    seconds, last = _run(member.id, now, pause)
    if last is not None and seconds >= params.sensitive_break_minutes * 60 and now - last < pause:
        raise BreakNeeded(
            _(
                "You have worked %(minutes)s minutes in a row on sensitive content: take a "
                "break of %(pause)s minutes before the next item.",
                minutes=seconds // 60,
                pause=params.sensitive_pause_minutes,
            ),
            until=last + pause,
        )
