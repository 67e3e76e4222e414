"""Qualification commands: define one with its test, start a sitting, require one on a project.

A qualification's test is a small project of gold items (Project.is_test), so it reuses what
projects already do: the templates and the work screen, the import of items with their gold
answers, leases, measured time, answers on the ledger and their pay. What differs is said on
the test project: every member answers every item once per sitting, each answer is paid at
once (right or wrong) at the floor's price for the estimated time, and nobody but the member
sees the answers — the test has no client pages, no results download, no quality page.

A client's qualification is paid by the client, like its projects; the coop's (defined by the
board, for shared skills) is paid by the coop, without margin.
"""

import json
from datetime import timedelta

from flask_babel import gettext as _

from coop import params as params_module
from coop.audit.events import record
from coop.auth.roles import require_member
from coop.db import write_transaction
from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.models import User, utcnow
from coop.projects import operations as project_ops
from coop.projects.importer import import_items
from coop.projects.models import Item, Project, ProjectState
from coop.projects.templates import validate_config
from coop.quality import sittings
from coop.quality.models import Qualification, Requirement, Sitting

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_TEST_ITEMS = 200
MAX_DAYS = 3650
# A test has no deadline of its own: its project's is set this far ahead.
TEST_YEARS = 20


def _owner_of_new(actor: User) -> User | None:
    """Return who owns a qualification actor defines: a client, or the coop (None)."""
    if actor.is_client:
        return actor
    if actor.is_board:
        return None
    raise Forbidden(_("Only clients and the board define qualifications."))


def may_require(client: User, qualification: Qualification) -> bool:
    """Say whether a client may require a qualification: the coop's, or the client's own."""
    return qualification.owner_id is None or qualification.owner_id == client.id


def create_qualification(
    actor: User,
    *,
    name: str,
    description: str,
    instructions: str,
    template,
    estimated_seconds: int,
    pass_mark_pct: int,
    validity_days: int,
    retake_days: int,
    stream,
    filename: str,
    media_stream=None,
) -> Qualification:
    """Define a qualification and its test from a file of gold items, all or nothing.

    :raises DomainError: naming the field, or the first bad lines of the file.
    """
    owner = _owner_of_new(actor)
    name = project_ops._text(name, "name", MAX_NAME, required=True)
    description = project_ops._text(description, "description", MAX_DESCRIPTION, required=True)
    instructions = project_ops._text(instructions, "instructions", project_ops.MAX_INSTRUCTIONS,
                                     required=True)
    config = validate_config(template)
    estimated_seconds = project_ops._int_in(estimated_seconds, 1, project_ops.MAX_SECONDS,
                                            "estimated_seconds")
    pass_mark_pct = project_ops._int_in(pass_mark_pct, 1, 100, "pass_mark")
    validity_days = project_ops._int_in(validity_days, 1, MAX_DAYS, "validity_days")
    retake_days = project_ops._int_in(retake_days, 0, MAX_DAYS, "retake_days")
    params = params_module.current()
    # The coop pays its own tests without margin: the member's pay is the whole price.
    margin = params.margin_bp if owner is not None else 0
    floor = params.pay_floor_cents_per_hour
    price = project_ops.minimum_item_price(floor, margin, estimated_seconds)
    now = utcnow()
    with write_transaction():
        test = Project.create(
            client=actor.id, title=name, instructions=instructions,
            template=json.dumps(config, sort_keys=True, ensure_ascii=False),
            price_cents=price, estimated_seconds=estimated_seconds, overlap=1,
            deadline=now + timedelta(days=365 * TEST_YEARS), budget_cents=price,
            state=ProjectState.PUBLISHED, margin_bp=margin, floor_cents_per_hour=floor,
            published_at=now, gold_rate_bp=0, is_test=True,
        )
        report = import_items(test, config, stream, filename, media_stream)
        if not report.ok:
            lines = "; ".join(f"{line}: {reason}" for line, reason in report.errors[:3])
            raise DomainError(_("Nothing was imported. Lines %(lines)s", lines=lines),
                              field="items")
        test = Project.get_by_id(test.id)
        if test.items_count > MAX_TEST_ITEMS:
            raise DomainError(_("A test holds at most %(max)s items: keep it short.",
                                max=MAX_TEST_ITEMS), field="items")
        plain = Item.select(Item.external_id).where(
            (Item.project == test.id) & (Item.gold_state == "")
        ).first()
        if plain is not None:
            raise DomainError(
                _("Every item of a test needs its gold_answer; %(id)s has none.",
                  id=plain.external_id[:60]),
                field="items",
            )
        Project.update(budget_cents=price * test.items_count).where(
            Project.id == test.id).execute()
        qualification = Qualification.create(
            owner=owner.id if owner else None, name=name, description=description,
            test=test.id, pass_mark_bp=pass_mark_pct * 100, validity_days=validity_days,
            retake_days=retake_days, created_at=now,
        )
        record(
            "qualification.created",
            f"qualification:{qualification.id}",
            qualification=qualification.id,
            owner="coop" if owner is None else f"client:{owner.id}",
            test=test.id,
            items=test.items_count,
            price_cents=price,
            pass_mark_bp=qualification.pass_mark_bp,
            validity_days=validity_days,
            retake_days=retake_days,
            template_sha256=project_ops._sha256(test.template),
        )
    return qualification


def retake_from(member: User, qualification: Qualification):
    """Return when the member may start another sitting (None: now)."""
    last = (
        Sitting.select()
        .where((Sitting.qualification == qualification.id) & (Sitting.member == member.id)
               & Sitting.finished_at.is_null(False))
        .order_by(Sitting.number.desc())
        .first()
    )
    if last is None:
        return None
    return last.finished_at + timedelta(days=qualification.retake_days)


def start_sitting(member: User, qualification: Qualification) -> Sitting:
    """Open a sitting of the qualification's test (or return the one already open).

    :raises DomainError: before the waiting period after the last sitting has passed.
    """
    require_member(member)
    now = utcnow()
    with write_transaction():
        test = project_ops._lock_project(qualification.test)
        if test.state != ProjectState.PUBLISHED:
            raise Conflict(_("This test is closed."))
        try:
            return sittings.open_sitting(member, test)
        except sittings.NoSitting:
            pass
        after = retake_from(member, qualification)
        if after is not None and after > now:
            raise DomainError(
                _("You may take this test again from %(when)s UTC.",
                  when=after.strftime("%Y-%m-%d %H:%M"))
            )
        number = 1 + (
            Sitting.select().where((Sitting.qualification == qualification.id)
                                   & (Sitting.member == member.id)).count()
        )
        sitting = Sitting.create(qualification=qualification.id, member=member.id,
                                 number=number, started_at=now)
        record("qualification.sitting_started", f"qualification:{qualification.id}",
               qualification=qualification.id, sitting=sitting.id, member=member.pseudonym)
    return sitting


def require_qualification(client: User, project: Project, qualification: Qualification) -> None:
    """Hand the project's items only to members who hold the qualification."""
    project_ops._own(client, project)
    if not may_require(client, qualification):
        raise NotFound(_("No such qualification."))
    with write_transaction():
        project_ops._lock_project(project)
        if Requirement.select().where((Requirement.project == project.id)
                                      & (Requirement.qualification == qualification.id)).exists():
            raise Conflict(_("The project already asks for this qualification."))
        Requirement.create(project=project.id, qualification=qualification.id)
        record("project.qualification_required", f"project:{project.id}",
               project=project.id, qualification=qualification.id)


def drop_requirement(client: User, project: Project, qualification: Qualification) -> None:
    """Stop asking for a qualification on the project."""
    project_ops._own(client, project)
    with write_transaction():
        project_ops._lock_project(project)
        rows = Requirement.delete().where((Requirement.project == project.id)
                                          & (Requirement.qualification == qualification.id)
                                          ).execute()
        if rows != 1:
            raise NotFound(_("The project does not ask for this qualification."))
        record("project.qualification_dropped", f"project:{project.id}",
               project=project.id, qualification=qualification.id)
