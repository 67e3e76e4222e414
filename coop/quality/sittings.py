"""Who holds which qualification, the gate a project's requirements make, and the sittings of
a test as the lease code sees them.

A member holds a qualification while their latest passed sitting has not expired. A sitting
ends when its test has no item left for it (every item answered, skipped or timed out); its
score is the items answered right over all the test's items.
"""

from datetime import datetime, timedelta

from flask_babel import gettext as _

from coop.audit.events import record
from coop.errors import DomainError
from coop.models import User
from coop.projects.models import Answer, Assignment, Project
from coop.quality.models import Qualification, Requirement, Sitting


class NotQualified(DomainError):
    """The project asks for a qualification the member does not hold (or holds no longer)."""

    status = 403


class NoSitting(DomainError):
    """A test's items are handed out only within a sitting the member started."""

    status = 403


def holding(member: User, qualification: Qualification, now: datetime) -> Sitting | None:
    """Return the member's passed sitting that still counts, the latest one, or None."""
    return (
        Sitting.select()
        .where(
            (Sitting.qualification == qualification.id)
            & (Sitting.member == member.id)
            & (Sitting.passed == True)  # noqa: E712 (peewee expression)
            & (Sitting.expires_at > now)
        )
        .order_by(Sitting.expires_at.desc())
        .first()
    )


def required(project: Project) -> list[Qualification]:
    """Return the qualifications a project asks for, by name."""
    return list(
        Qualification.select()
        .join(Requirement, on=(Requirement.qualification == Qualification.id))
        .where(Requirement.project == project.id)
        .order_by(Qualification.name)
    )


def check_holds(member: User, project: Project, now: datetime) -> None:
    """Refuse the project's items to a member missing one of its qualifications.

    :raises NotQualified: naming the qualifications missing and where their tests are.
    """
    missing = [q.name for q in required(project) if holding(member, q, now) is None]
    if missing:
        raise NotQualified(
            _(
                "This project asks for a qualification you do not hold now: %(names)s. Its "
                "test is on the Qualifications page; each test item is paid like any work.",
                names=", ".join(missing),
            )
        )


def qualification_of(test: Project) -> Qualification:
    return Qualification.get(Qualification.test == test.id)


def open_sitting(member: User, test: Project) -> Sitting:
    """Return the member's open sitting of a test.

    :raises NoSitting: when the member has not started one from the qualification's page.
    """
    sitting = (
        Sitting.select()
        .join(Qualification, on=(Sitting.qualification == Qualification.id))
        .where(
            (Qualification.test == test.id)
            & (Sitting.member == member.id)
            & Sitting.finished_at.is_null()
        )
        .first()
    )
    if sitting is None:
        raise NoSitting(_("Start the test from its qualification's page."))
    return sitting


def finish(sitting: Sitting, test: Project, now: datetime) -> Sitting:
    """Score a sitting with no item left, under the test's lock, and record it.

    The ledger says that the sitting ended, not its result: a member's result is their own
    (and a short score hashed would be guessed back from its hash).
    """
    qualification = sitting.qualification
    correct = (
        Answer.select()
        .join(Assignment, on=(Answer.assignment == Assignment.id))
        .where(
            (Assignment.project == test.id)
            & (Assignment.member == sitting.member_id)
            & (Assignment.sitting == sitting.number)
            & (Answer.gold_correct == True)  # noqa: E712 (peewee expression)
        )
        .count()
    )
    total = test.items_count
    passed = total > 0 and correct * 10_000 >= qualification.pass_mark_bp * total
    expires = now + timedelta(days=qualification.validity_days) if passed else None
    Sitting.update(
        finished_at=now, correct=correct, total=total, passed=passed, expires_at=expires
    ).where(Sitting.id == sitting.id).execute()
    record(
        "qualification.sitting_finished",
        f"qualification:{qualification.id}",
        qualification=qualification.id,
        sitting=sitting.id,
    )
    return Sitting.get_by_id(sitting.id)
