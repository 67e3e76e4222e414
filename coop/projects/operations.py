"""Project commands: create, load items, publish, lease items, answer, skip, review, pay.

Every change of an item's counters, of a lease or of an answer's review happens under the
project's row lock (`locked` on PostgreSQL; SQLite's write transaction locks the database), so
answers plus open leases never exceed the overlap the client asked for, and two reviewers (or
a reviewer and `coop tick`) never credit the same answer twice.
"""

import hashlib
import json
import secrets
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from coop import formats, money
from coop import params as params_module
from coop.audit.events import record
from coop.auth.roles import require_client as _require_client
from coop.auth.roles import require_member as _require_member
from coop.db import database, is_sqlite, locked, write_transaction
from coop.errors import Conflict, DomainError, NotFound
from coop.models import NotificationKind, User, utcnow
from coop.notifications.operations import notify
from coop.projects import exposure, fairness
from coop.projects.importer import ImportReport, import_items
from coop.projects.models import (
    Answer,
    AnswerEarning,
    AnswerState,
    Assignment,
    AssignmentState,
    EarningKind,
    Item,
    PauseReason,
    Project,
    ProjectState,
)
from coop.projects.templates import answer_bytes, parse_answer, validate_config
from coop.quality import access as quality
from coop.quality import gold, sittings
from ledger.entry import MAX_ITEMS

MAX_TITLE = 120
MAX_INSTRUCTIONS = 10_000
MAX_CONTENT_NOTE = 300
MAX_SECONDS = 3600
MAX_OVERLAP = 10
# Measured time stops counting at IDLE_FACTOR × the estimate: a member who walks away from an
# item is not paid for the walk, and one very slow answer does not skew the median.
IDLE_FACTOR = 10
# A lease lasts the idle cap, but never less than this, so a short item can still be read.
MIN_LEASE_SECONDS = 15 * 60
# A ledger entry's lists hold at most 64 values: a bulk review takes one entry per 64 answers.
REVIEW_CHUNK = MAX_ITEMS
# After its first floor check, a project is checked again every this many answers.
FLOOR_CHECK_EVERY = 10

SKIP_REASONS = ("unclear", "distressing", "broken_media")
REJECT_CATEGORIES = ("wrong", "instructions", "incomplete", "spam")
MIN_REJECT_REASON = 10

# Which states may move to which, by which command.
TRANSITIONS = {
    "publish": ((ProjectState.DRAFT, ProjectState.PAUSED), ProjectState.PUBLISHED),
    "pause": ((ProjectState.PUBLISHED,), ProjectState.PAUSED),
    "cancel": (
        (ProjectState.DRAFT, ProjectState.PUBLISHED, ProjectState.PAUSED),
        ProjectState.CANCELLED,
    ),
}
ACCEPTS_ITEMS = (ProjectState.DRAFT, ProjectState.PAUSED)


# -- money -----------------------------------------------------------------------------------


# Items are priced like tasks: the member nets the price less the margin, and the net pay
# must meet the floor (coop.money holds the arithmetic both use).
net_of = money.net_of
floor_pay = money.floor_pay
minimum_item_price = money.minimum_gross_price


def net_per_hour(net_cents: int, seconds: int) -> int:
    """Return net_cents for seconds of work as cents per hour (rounded down)."""
    return net_cents * 3600 // max(seconds, 1)


def _check_floor(price_cents: int, seconds: int, floor: int, margin_bp: int) -> None:
    minimum = minimum_item_price(floor, margin_bp, seconds)
    if price_cents < minimum:
        raise DomainError(
            _(
                "The pay floor is %(floor)s/h for the member, after the coop's margin of "
                "%(margin)s: for %(seconds)s seconds per item the price must be at least "
                "%(minimum)s.",
                floor=formats.money(floor),
                margin=formats.percent(margin_bp),
                seconds=seconds,
                minimum=formats.money(minimum),
            ),
            field="price",
        )


def _check_budget(project: Project, items: int) -> None:
    needed = items * project.overlap * project.price_cents
    if project.budget_cents < needed:
        raise DomainError(
            _(
                "The budget must cover %(items)s items × %(overlap)s answers × %(price)s: "
                "at least %(needed)s.",
                items=items,
                overlap=project.overlap,
                price=formats.money(project.price_cents),
                needed=formats.money(needed),
            ),
            field="budget",
        )


def median_seconds(project: Project) -> int | None:
    """Return the median measured seconds of the project's answers (the lower middle)."""
    count = project.answers_count
    if not count:
        return None
    middle = (
        Answer.select(Answer.seconds)
        .where(Answer.project == project.id)
        .order_by(Answer.seconds)
        .offset((count - 1) // 2)
        .limit(1)
        .scalar()
    )
    return int(middle)


def below_floor_on_median(project: Project, every: int = 1) -> tuple[bool, int | None]:
    """Say whether the project's net pay misses the floor on the median measured time.

    Only once it has floor_check_min_answers answers, and then at every `every`-th answer
    (the median moves slowly; reading it costs a walk of half the answers); returns (below,
    median seconds).
    """
    params = params_module.current()
    past = project.answers_count - params.floor_check_min_answers
    if past < 0 or past % every or project.margin_bp is None:
        return False, None
    median = median_seconds(project)
    need = floor_pay(project.floor_cents_per_hour, median)
    return net_of(project.price_cents, project.margin_bp) < need, median


def idle_cap(project: Project) -> int:
    """Return the most seconds an answer may count for this project."""
    return IDLE_FACTOR * project.estimated_seconds


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- who -------------------------------------------------------------------------------------


def _lock_project(project: Project) -> Project:
    """Return the project read again under its row lock."""
    found = locked(Project.select().where(Project.id == project.id)).first()
    if found is None:
        raise NotFound(_("No such project."))
    return found


def _own(client: User, project: Project) -> None:
    _require_client(client)
    if project.client_id != client.id:
        raise NotFound(_("No such project among yours."))


# -- creating and loading --------------------------------------------------------------------


def _text(value: str, field: str, limit: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > limit:
        raise DomainError(_("At most %(limit)s characters, please.", limit=limit), field=field)
    return value


def _int_in(value, low: int, high: int, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(
            _("Between %(low)s and %(high)s, please.", low=low, high=high), field=field
        )
    return value


def create_project(
    client: User,
    *,
    title: str,
    instructions: str,
    template,
    price_cents: int,
    estimated_seconds: int,
    deadline: datetime,
    budget_cents: int,
    overlap: int = 1,
    sensitive: bool = False,
    content_note: str = "",
    fair_share: bool = False,
) -> Project:
    """Create a draft project, refusing a price whose net pay is below the floor."""
    _require_client(client)
    title = _text(title, "title", MAX_TITLE, required=True)
    instructions = _text(instructions, "instructions", MAX_INSTRUCTIONS, required=True)
    config = validate_config(template)
    estimated_seconds = _int_in(estimated_seconds, 1, MAX_SECONDS, "estimated_seconds")
    overlap = _int_in(overlap, 1, MAX_OVERLAP, "overlap")
    price_cents = _int_in(price_cents, 1, 10**9, "price")
    budget_cents = _int_in(budget_cents, 1, 10**12, "budget")
    if deadline is None or deadline <= utcnow():
        raise DomainError(_("The deadline must be in the future."), field="deadline")
    content_note = _text(content_note, "content_note", MAX_CONTENT_NOTE, required=False)
    if sensitive and not content_note:
        raise DomainError(
            _("Say what the sensitive content is, so members can decide."), field="content_note"
        )
    params = params_module.current()
    _check_floor(price_cents, estimated_seconds, params.pay_floor_cents_per_hour, params.margin_bp)
    with write_transaction():
        return Project.create(
            client=client.id,
            title=title,
            instructions=instructions,
            template=json.dumps(config, sort_keys=True, ensure_ascii=False),
            price_cents=price_cents,
            estimated_seconds=estimated_seconds,
            overlap=overlap,
            deadline=deadline,
            budget_cents=budget_cents,
            sensitive=bool(sensitive),
            content_note=content_note if sensitive else "",
            fair_share=bool(fair_share),
        )


def set_fair_share(client: User, project: Project, on: bool) -> Project:
    """Keep (or stop keeping) the project's last answers for members who worked less."""
    _own(client, project)
    with write_transaction():
        project = _lock_project(project)
        if project.state in (ProjectState.FINISHED, ProjectState.CANCELLED):
            raise DomainError(_("A finished or cancelled project keeps its rules."))
        Project.update(fair_share=bool(on)).where(Project.id == project.id).execute()
        record("project.fair_share_set", f"project:{project.id}", project=project.id,
               fair_share=bool(on))
    return Project.get_by_id(project.id)


def check_accepts_items(client: User, project: Project) -> None:
    """Refuse unless project is client's and takes items now (a draft, or paused)."""
    _own(client, project)
    if project.state not in ACCEPTS_ITEMS:
        raise DomainError(_("Only a draft or a paused project takes new items: pause it first."))


def upload_items(client: User, project: Project, stream, filename: str, media_stream=None,
                 progress=None) -> ImportReport:
    """Add items from a CSV or JSONL file (media in an optional zip) to a draft or paused project.

    :raises DomainError: if the project takes no items now, or the files cannot be read.
    """
    check_accepts_items(client, project)
    return import_items(project, project.template_data, stream, filename, media_stream,
                        progress=progress)


# -- states ----------------------------------------------------------------------------------


def _move(project: Project, command: str, **changes) -> None:
    sources, target = TRANSITIONS[command]
    rows = (
        Project.update(state=target, **changes)
        .where((Project.id == project.id) & (Project.state.in_(sources)))
        .execute()
    )
    if rows != 1:
        raise Conflict(
            _("A %(state)s project cannot do that.", state=str(project.state))
        )


def publish_project(client: User, project: Project) -> Project:
    """Publish a draft, or resume a paused project: members may then take its items.

    The first publication fixes the coop's margin and the pay floor for the project's answers.
    """
    _own(client, project)
    now = utcnow()
    with write_transaction():
        project = _lock_project(project)
        if project.items_count == 0:
            raise DomainError(_("Upload items before publishing."))
        if project.deadline <= now:
            raise DomainError(_("The deadline has passed: nothing more can be published."))
        changes = {"pause_reason": ""}
        if project.margin_bp is None:
            params = params_module.current()
            changes.update(
                margin_bp=params.margin_bp,
                floor_cents_per_hour=params.pay_floor_cents_per_hour,
                published_at=now,
            )
            margin, floor = params.margin_bp, params.pay_floor_cents_per_hour
        else:
            margin, floor = project.margin_bp, project.floor_cents_per_hour
        _check_floor(project.price_cents, project.estimated_seconds, floor, margin)
        below, median = below_floor_on_median(project)
        if below:
            raise DomainError(
                _(
                    "Members take %(median)s seconds per item (the median): raise the price to "
                    "at least %(minimum)s to meet the pay floor.",
                    median=median,
                    minimum=formats.money(minimum_item_price(floor, margin, median)),
                ),
                field="price",
            )
        _check_budget(project, project.items_count)
        _move(project, "publish", **changes)
        record(
            "project.published",
            f"project:{project.id}",
            project=project.id,
            items=project.items_count,
            overlap=project.overlap,
            price_cents=project.price_cents,
            margin_bp=margin,
            floor_cents_per_hour=floor,
            template_sha256=_sha256(project.template),
        )
    return Project.get_by_id(project.id)


def pause_project(client: User, project: Project) -> Project:
    """Stop handing out items; leases already given may still be answered."""
    _own(client, project)
    with write_transaction():
        _move(_lock_project(project), "pause")
    return Project.get_by_id(project.id)


def cancel_project(client: User, project: Project) -> Project:
    """Cancel a project: no more items are handed out; answers given stay to be reviewed."""
    _own(client, project)
    now = utcnow()
    with write_transaction():
        project = _lock_project(project)
        _move(project, "cancel", finished_at=now)
        _end_leases(_of_project(project), now)
    return Project.get_by_id(project.id)


# -- leases ----------------------------------------------------------------------------------


def _items_through(index: str) -> str:
    """Return the FROM clause reading items through one of m0010's partial indexes.

    Without statistics SQLite's planner picks the plain project index over the partial one
    (and cannot match `free > ?` with a bound 0 to it at all), reading every item of the
    project: 40-60 ms per next item and per answer once 94,000 of 100,000 items are done.
    PostgreSQL picks the partial index by itself.
    """
    return f"item INDEXED BY {index}" if is_sqlite() else "item"


def _first_free_item(project: Project, member: User, gold: bool) -> int | None:
    """Return the id of the first item wanting answers that the member has not had, if any.

    The member's past leases are found through the member's index: the unary + keeps SQLite's
    planner (no statistics) off the project's index, which read every lease of the project
    (46 ms per next item at 282,000 answers). PostgreSQL plans it by its statistics.
    """
    p = database.param
    sql = (
        f"SELECT id FROM {_items_through('item_free')} WHERE project_id = {p} AND free > 0"  # noqa: S608 - no value interpolated
        f" AND gold_state {'<>' if gold else '='} '' AND id NOT IN (SELECT item_id FROM"
        f" assignment WHERE +project_id = {p} AND member_id = {p}) ORDER BY id LIMIT 1"
    )
    row = database.execute_sql(sql, (project.id, project.id, member.id)).fetchone()
    return None if row is None else row[0]


def _has_items(project: Project, index: str, condition: str) -> bool:
    p = database.param
    sql = f"SELECT 1 FROM {_items_through(index)} WHERE project_id = {p} AND {condition} LIMIT 1"  # noqa: S608 - no value interpolated
    return database.execute_sql(sql, (project.id,)).fetchone() is not None


def _of_project(project: Project):
    """Match a project's leases without steering the planner to the project's index.

    A project's leases are mostly answered ones (three per item at overlap 3): found by the
    project's index, expiring leases read them all (32 ms per next item at 54,000 answers on
    SQLite). The `+ 0` leaves the state index to pick the few active leases first.
    """
    return (Assignment.project + 0) == project.id


def end_member_leases(project: Project, member: User, now: datetime) -> int:
    """Give back the items the member holds on the project (their work there is stopped)."""
    return _end_leases(_of_project(project) & (Assignment.member == member.id), now)


def _end_leases(where, now: datetime) -> int:
    """Expire the active leases matching where, giving their items back; return how many."""
    ended = 0
    for lease in list(
        Assignment.select(Assignment.id, Assignment.item).where(
            where & (Assignment.state == AssignmentState.ACTIVE)
        )
    ):
        rows = (
            Assignment.update(state=AssignmentState.EXPIRED, ended_at=now)
            .where((Assignment.id == lease.id) & (Assignment.state == AssignmentState.ACTIVE))
            .execute()
        )
        if rows:
            Item.update(active_count=Item.active_count - 1, free=Item.free + 1).where(
                Item.id == lease.item_id
            ).execute()
            ended += 1
    return ended


def expire_leases(now: datetime) -> int:
    """Return every expired lease's item to its project (run by `coop tick`); return how many."""
    project_ids = {
        a.project_id
        for a in Assignment.select(Assignment.project).where(
            (Assignment.state == AssignmentState.ACTIVE) & (Assignment.expires_at <= now)
        )
    }
    expired = 0
    for project_id in sorted(project_ids):
        with write_transaction():
            project = _lock_project(Project(id=project_id))
            expired += _end_leases(
                _of_project(project) & (Assignment.expires_at <= now), now
            )
    return expired


def _check_member_may_work(member: User, project: Project, now: datetime) -> None:
    _require_member(member)
    if project.sensitive and not member.sensitive_opt_in:
        raise DomainError(
            _(
                "This project is flagged as sensitive content: only members who accept "
                "sensitive tasks in their settings may work on it."
            )
        )
    if project.state not in (ProjectState.PUBLISHED, ProjectState.FINISHED):
        raise DomainError(_("This project is not handing out items now."))
    if project.deadline <= now:
        raise DomainError(_("The project's deadline has passed."))


def current_assignment(member: User, project: Project) -> Assignment | None:
    """Return the member's open lease on the project, if any (a read: nothing changes)."""
    return (
        Assignment.select()
        .where(
            (Assignment.project == project.id)
            & (Assignment.member == member.id)
            & (Assignment.state == AssignmentState.ACTIVE)
            & (Assignment.expires_at > utcnow())
        )
        .order_by(Assignment.id)
        .first()
    )


def next_assignment(member: User, project: Project) -> Assignment | None:
    """Lease the member the next item still wanting answers; None when none is left for them.

    A member holding an open lease on the project gets it back rather than a second one.
    """
    now = utcnow()
    with write_transaction():
        project = _lock_project(project)
        _check_member_may_work(member, project, now)
        if project.state == ProjectState.FINISHED:
            return None  # every item has its answers: nothing left, for anybody
        if not project.is_test:
            quality.check_not_barred(member, project)
        held = current_assignment(member, project)
        if held is not None:
            return held
        exposure.check(member, project, now)
        if project.is_test:
            return _next_test_item(member, project, now)
        quality.check_may_receive(member, project)
        sittings.check_holds(member, project, now)
        _end_leases(_of_project(project) & (Assignment.expires_at <= now), now)
        fairness.check(member, project, now)
        # Gold items are drawn at the project's rate, by chance, so no position gives them away.
        # A contested one is still handed out (it is paid like any item; its gold just does not
        # count meanwhile); one found wrong wants no more answers (free = 0).
        kinds = [True, False]
        if secrets.randbelow(10_000) >= project.gold_rate_bp:
            kinds.reverse()
        item_id = None
        for gold in kinds:
            item_id = _first_free_item(project, member, gold)
            if item_id is not None:
                break
        if item_id is None:
            return None
        Item.update(active_count=Item.active_count + 1, free=Item.free - 1).where(
            Item.id == item_id
        ).execute()
        lease = max(idle_cap(project), MIN_LEASE_SECONDS)
        return Assignment.create(
            item=item_id,
            project=project.id,
            member=member.id,
            started_at=now,
            expires_at=now + timedelta(seconds=lease),
        )


def _next_test_item(member: User, test: Project, now: datetime) -> Assignment | None:
    """Lease the next item of the member's open sitting; score the sitting when none is left.

    Every member answers every item of a test once per sitting: the item's free count does not
    apply, its active count still tracks the open leases.
    """
    sitting = sittings.open_sitting(member, test)
    _end_leases(_of_project(test) & (Assignment.expires_at <= now), now)
    seen = Assignment.select(Assignment.item).where(
        (Assignment.project == test.id) & (Assignment.member == member.id)
        & (Assignment.sitting == sitting.number)
    )
    item = Item.select(Item.id).where(
        (Item.project == test.id) & ~(Item.id.in_(seen))
    ).order_by(Item.id).first()
    if item is None:
        sittings.finish(sitting, test, now)
        return None
    Item.update(active_count=Item.active_count + 1).where(Item.id == item.id).execute()
    return Assignment.create(
        item=item.id,
        project=test.id,
        member=member.id,
        sitting=sitting.number,
        started_at=now,
        expires_at=now + timedelta(seconds=max(idle_cap(test), MIN_LEASE_SECONDS)),
    )


def _own_lease(member: User, assignment: Assignment) -> None:
    _require_member(member)
    if assignment.member_id != member.id:
        raise NotFound(_("No such item among yours."))


def _close_lease(assignment: Assignment, state: AssignmentState, now: datetime, **extra) -> None:
    rows = (
        Assignment.update(state=state, ended_at=now, **extra)
        .where(
            (Assignment.id == assignment.id) & (Assignment.state == AssignmentState.ACTIVE)
        )
        .execute()
    )
    if rows != 1:
        raise Conflict(
            _("This item is no longer yours to answer: it was answered, skipped or its time ran "
              "out.")
        )


def submit_answer(member: User, assignment: Assignment, form) -> Answer:
    """Store the member's answer to a leased item, timed by the server, with its ledger entry.

    :raises DomainError: when the answer does not fit the template (nothing is stored).
    """
    _own_lease(member, assignment)
    project = assignment.project
    answer = parse_answer(project.template_data, form)
    canonical = answer_bytes(answer)
    digest = hashlib.sha256(canonical).hexdigest()
    now = utcnow()
    with write_transaction():
        project = _lock_project(project)
        if project.state == ProjectState.CANCELLED:
            raise Conflict(_("The client cancelled this project."))
        started = Assignment.get_by_id(assignment.id).started_at
        seconds = max(0, min(int((now - started).total_seconds()), idle_cap(project)))
        _close_lease(assignment, AssignmentState.ANSWERED, now)
        Item.update(
            answers_count=Item.answers_count + 1, active_count=Item.active_count - 1
        ).where(Item.id == assignment.item_id).execute()
        Project.update(answers_count=Project.answers_count + 1).where(
            Project.id == project.id
        ).execute()
        project.answers_count += 1  # read under the lock above: now the count with this one
        # Read after the update above (not a cached assignment.item): its counts are current.
        item = Item.get_by_id(assignment.item_id)
        stored = Answer.create(
            assignment=assignment.id,
            item=assignment.item_id,
            project=project.id,
            member=member.id,
            data=canonical.decode("utf-8"),
            sha256=digest,
            seconds=seconds,
            submitted_at=now,
            unix_ns=0,
            gold_correct=gold.correct(item, canonical.decode()),
        )
        event = record(
            "answer.submitted",
            f"answer:{stored.id}",
            project=project.id,
            item=_sha256(item.external_id),
            answer_sha256=digest,
            member=member.pseudonym,
            seconds=seconds,
        )
        stored.ledger_index = event.ledger_index
        stored.unix_ns = event.unix_ns
        stored.uncertainty_ns = event.entry.time.uncertainty_ns
        Answer.update(
            ledger_index=stored.ledger_index,
            unix_ns=stored.unix_ns,
            uncertainty_ns=stored.uncertainty_ns,
        ).where(Answer.id == stored.id).execute()
        if project.is_test:
            # A test answer is paid at once, right or wrong: nobody reviews a member's test.
            _accept(project, [stored.id], now, auto=True)
            return Answer.get_by_id(stored.id)
        if item.free == 0 and item.active_count == 0:
            # Only the last answer an item wants can finish the project: the others skip
            # the two reads (read above, after this answer's update of the item).
            _finish_if_done(project, now)
        _pause_if_below_floor(project)
    return stored


def _pause_if_below_floor(project: Project) -> None:
    """Stop handing out items when the median measured time makes pay miss the floor."""
    if project.state != ProjectState.PUBLISHED:
        return
    if not below_floor_on_median(project, every=FLOOR_CHECK_EVERY)[0]:
        return
    Project.update(state=ProjectState.PAUSED, pause_reason=PauseReason.BELOW_FLOOR).where(
        (Project.id == project.id) & (Project.state == ProjectState.PUBLISHED)
    ).execute()


def _finish_if_done(project: Project, now: datetime) -> None:
    # Every item has its answers when none has an answer to hand out nor an open lease.
    if not _has_items(project, "item_free", "free > 0") and not _has_items(
        project, "item_active", "active_count > 0"
    ):
        Project.update(state=ProjectState.FINISHED, finished_at=now).where(
            (Project.id == project.id) & (Project.state == ProjectState.PUBLISHED)
        ).execute()


def skip_item(member: User, assignment: Assignment, reason: str) -> Assignment:
    """Hand an item back without penalty; the member will not be given it again."""
    _own_lease(member, assignment)
    if reason not in SKIP_REASONS:
        raise DomainError(_("Choose why you skip this item."), field="reason")
    now = utcnow()
    with write_transaction():
        _lock_project(assignment.project)
        _close_lease(assignment, AssignmentState.SKIPPED, now, skip_reason=reason)
        Item.update(active_count=Item.active_count - 1, free=Item.free + 1).where(
            Item.id == assignment.item_id
        ).execute()
    return Assignment.get_by_id(assignment.id)


@dataclass(frozen=True)
class Next:
    """What follows an answer or a skip: the next lease, or why there is none."""

    assignment: Assignment | None
    reason: str = ""


def _answer_then_lease():
    """The transaction an answer (or skip) and the next lease share, where they share one.

    SQLite has one writer: one turn at its write lock per answer, not two (the lease is a
    savepoint inside). On PostgreSQL the answer commits on its own, releasing the ledger's
    append lock (an advisory lock held to commit) before the next lease is chosen, so that
    other answers append meanwhile.
    """
    return write_transaction() if is_sqlite() else nullcontext()


def answer_and_next(member: User, assignment: Assignment, form) -> tuple[Answer, Next]:
    """Store an answer, then lease the next item.

    :raises BreakNeeded: after the answer is stored, when a break comes before the next item.
    """
    with _answer_then_lease():
        answer = submit_answer(member, assignment, form)
        following, pause = _next_or_pause(member, assignment.project)
    if pause is not None:
        raise pause
    return answer, following


def skip_and_next(member: User, assignment: Assignment, reason: str) -> Next:
    """Skip an item, then lease the next one."""
    with _answer_then_lease():
        skip_item(member, assignment, reason)
        following, pause = _next_or_pause(member, assignment.project)
    if pause is not None:
        raise pause
    return following


def _next_or_pause(member: User, project: Project) -> tuple[Next, exposure.BreakNeeded | None]:
    """Lease the next item; a break that comes first is returned, not raised, so the answer
    or skip before it still commits (the lease's savepoint alone is undone)."""
    try:
        return _next(member, project), None
    except exposure.BreakNeeded as pause:
        return Next(None), pause


def _next(member: User, project: Project) -> Next:
    try:
        return Next(next_assignment(member, Project.get_by_id(project.id)))
    except exposure.BreakNeeded:
        raise
    except DomainError as error:
        # The project paused, or a limit is reached: the answer is kept, the work ends here.
        return Next(None, error.message)


# -- review and pay --------------------------------------------------------------------------


def _credit(project: Project, answer_ids: list[int], action: str, now: datetime,
            reason: str = "") -> None:
    """Record one review entry per chunk of answers and credit the accepted ones."""
    price = project.price_cents
    margin = money.percent_of(price, project.margin_bp or 0)
    for start in range(0, len(answer_ids), REVIEW_CHUNK):
        chunk = answer_ids[start : start + REVIEW_CHUNK]
        data = {"project": project.id, "action": action, "answers": chunk}
        if reason:
            data["reason_sha256"] = _sha256(reason)
        event = record("answers.reviewed", f"project:{project.id}", **data)
        if action == "reject":
            continue
        members = dict(
            Answer.select(Answer.id, Answer.member).where(Answer.id.in_(chunk)).tuples()
        )
        AnswerEarning.insert_many(
            [
                {
                    "member": members[answer_id],
                    "answer": answer_id,
                    "kind": EarningKind.ANSWER,
                    "project": project.id,
                    "price_cents": price,
                    "earnings_cents": price - margin,
                    "margin_cents": margin,
                    "created_at": now,
                    "ledger_index": event.ledger_index,
                    "unix_ns": event.unix_ns,
                }
                for answer_id in chunk
            ]
        ).execute()


def _accept(project: Project, ids: Iterable[int] | None, now: datetime, auto: bool,
            older_than: datetime | None = None) -> int:
    """Accept the project's pending answers among ids (all when None), under the project lock."""
    query = Answer.select(Answer.id).where(
        (Answer.project == project.id) & (Answer.state == AnswerState.PENDING)
    )
    if ids is not None:
        query = query.where(Answer.id.in_(list(ids)))
    if older_than is not None:
        query = query.where(Answer.submitted_at <= older_than)
    pending = [a.id for a in query.order_by(Answer.id)]
    if not pending:
        return 0
    for start in range(0, len(pending), REVIEW_CHUNK):
        Answer.update(state=AnswerState.ACCEPTED, reviewed_at=now, auto_accepted=auto).where(
            Answer.id.in_(pending[start : start + REVIEW_CHUNK])
        ).execute()
    _credit(project, pending, "auto_accept" if auto else "accept", now)
    return len(pending)


def accept_answers(client: User, project: Project, answer_ids: Iterable[int] | None = None) -> int:
    """Accept the given pending answers of the client's project (all pending when None).

    Returns how many were accepted; each credits its member the project's net pay.
    """
    _own(client, project)
    ids = None if answer_ids is None else [int(i) for i in answer_ids]
    if ids is not None and not ids:
        raise DomainError(_("Select at least one answer."), field="answers")
    with write_transaction():
        project = _lock_project(project)
        accepted = _accept(project, ids, utcnow(), auto=False)
    if not accepted:
        raise DomainError(_("No answer waiting for review among those."))
    return accepted


def reject_answer(client: User, answer: Answer, category: str, reason: str) -> Answer:
    """Reject one pending answer with a category and a reason the member reads (not paid)."""
    project = answer.project
    _own(client, project)
    if category not in REJECT_CATEGORIES:
        raise DomainError(_("Choose what is wrong with the answer."), field="category")
    reason = (reason or "").strip()
    if len(reason) < MIN_REJECT_REASON or len(set(reason.lower()) - set(" .!?-")) < 4:
        raise DomainError(
            _("Say in a sentence what is wrong, so the member can learn from it."),
            field="reason",
        )
    if len(reason) > 2000:
        raise DomainError(_("At most %(limit)s characters, please.", limit=2000), field="reason")
    now = utcnow()
    with write_transaction():
        project = _lock_project(project)
        rows = (
            Answer.update(
                state=AnswerState.REJECTED,
                reviewed_at=now,
                reject_category=category,
                reject_reason=reason,
            )
            .where((Answer.id == answer.id) & (Answer.state == AnswerState.PENDING))
            .execute()
        )
        if rows != 1:
            raise Conflict(_("This answer has already been reviewed."))
        _credit(project, [answer.id], "reject", now, reason=reason)
        notify(
            [answer.member_id],
            NotificationKind.ANSWERS_REJECTED,
            f"project:{project.id}",
            title=project.title,
        )
    return Answer.get_by_id(answer.id)


def reject_answers(client: User, project: Project,
                   rejections: list[tuple[Answer, str, str]]) -> int:
    """Reject several answers of the project, each with (answer, category, reason): all or none.

    :raises NotFound: an answer is not the project's.
    """
    _own(client, project)
    with write_transaction():
        for answer, category, reason in rejections:
            if answer.project_id != project.id:
                raise NotFound(_("No such answer among your projects."))
            reject_answer(client, answer, category, reason)
    return len(rejections)


def auto_accept_answers(now: datetime) -> int:
    """Accept every answer left unreviewed past the review window (run by `coop tick`)."""
    cutoff = now - timedelta(hours=params_module.current().review_window_hours)
    project_ids = {
        a.project_id
        for a in Answer.select(Answer.project).where(
            (Answer.state == AnswerState.PENDING) & (Answer.submitted_at <= cutoff)
        )
    }
    accepted = 0
    for project_id in sorted(project_ids):
        with write_transaction():
            project = _lock_project(Project(id=project_id))
            accepted += _accept(project, None, now, auto=True, older_than=cutoff)
    return accepted


# -- raising the price -----------------------------------------------------------------------


def raise_price(client: User, project: Project, price_cents: int,
                budget_cents: int | None = None) -> Project:
    """Raise the price per answer (and the budget if given); answers already paid are topped up.

    Each accepted answer gets the difference between the new and the old price, split like
    any pay into the member's earnings and the coop's margin, on the ledger
    (`answers.topped_up`, one entry per 64 answers); pending answers are paid the new price
    when accepted. A project paused below the floor may then be resumed.
    """
    _own(client, project)
    with write_transaction():
        project = _lock_project(project)
        if project.state in (ProjectState.FINISHED, ProjectState.CANCELLED):
            raise DomainError(_("A finished or cancelled project keeps its price."))
        old = project.price_cents
        price_cents = _int_in(price_cents, old + 1, 10**9, "price")
        budget = project.budget_cents if budget_cents is None else _int_in(
            budget_cents, project.budget_cents, 10**12, "budget"
        )
        project.price_cents, project.budget_cents = price_cents, budget
        _check_budget(project, project.items_count)
        below, median = below_floor_on_median(project)
        if below:
            raise DomainError(
                _(
                    "Members take %(median)s seconds per item (the median): the price must be "
                    "at least %(minimum)s to meet the pay floor.",
                    median=median,
                    minimum=formats.money(minimum_item_price(
                        project.floor_cents_per_hour, project.margin_bp, median)),
                ),
                field="price",
            )
        Project.update(
            price_cents=price_cents,
            budget_cents=budget,
            pause_reason="",
        ).where(Project.id == project.id).execute()
        record(
            "project.price_raised",
            f"project:{project.id}",
            project=project.id,
            old_price_cents=old,
            price_cents=price_cents,
            budget_cents=budget,
        )
        if project.margin_bp is not None:
            _top_up(project, old, price_cents, utcnow())
    return Project.get_by_id(project.id)


def _top_up(project: Project, old: int, new: int, now: datetime) -> None:
    margin_bp = project.margin_bp
    price = new - old
    earnings = net_of(new, margin_bp) - net_of(old, margin_bp)
    margin = price - earnings
    paid = list(
        Answer.select(Answer.id, Answer.member)
        .where((Answer.project == project.id) & (Answer.state == AnswerState.ACCEPTED))
        .order_by(Answer.id)
        .tuples()
    )
    for start in range(0, len(paid), REVIEW_CHUNK):
        chunk = paid[start : start + REVIEW_CHUNK]
        event = record(
            "answers.topped_up",
            f"project:{project.id}",
            project=project.id,
            answers=[answer_id for answer_id, _member in chunk],
            price_cents=price,
            earnings_cents=earnings,
            margin_cents=margin,
        )
        AnswerEarning.insert_many(
            [
                {
                    "member": member_id,
                    "answer": answer_id,
                    "kind": EarningKind.TOP_UP,
                    "project": project.id,
                    "price_cents": price,
                    "earnings_cents": earnings,
                    "margin_cents": margin,
                    "created_at": now,
                    "ledger_index": event.ledger_index,
                    "unix_ns": event.unix_ns,
                }
                for answer_id, member_id in chunk
            ]
        ).execute()
