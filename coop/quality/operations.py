"""Quality commands: a client's rules, a member's contest of a gold item, the decisions on it.

A contest holds its gold item (it counts for nobody) until the client decides; a member whose
contest the client turns down may appeal to the board, which holds the item again until it
decides. A gold item found wrong is removed: it is handed out no more and no score counts it,
so every score it touched is recomputed the moment the decision commits (scores are read from
the answers, never stored). Every contest, appeal and decision is on the ledger.
"""

import hashlib

from flask_babel import gettext as _

from coop import params as params_module
from coop.audit.events import record
from coop.db import locked, write_transaction
from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.models import User, utcnow
from coop.projects.models import Answer, GoldState, Item, Project
from coop.quality.models import PENDING, ContestState, GoldContest

MIN_REASON = 10
MAX_REASON = 2000


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if len(text) < MIN_REASON or len(set(text.lower()) - set(" .!?-")) < 4:
        raise DomainError(_("Say in a sentence why, so the other side can weigh it."), field=field)
    if len(text) > MAX_REASON:
        raise DomainError(_("At most %(limit)s characters, please.", limit=MAX_REASON),
                          field=field)
    return text


def _int_in(value, low: int, high: int, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(
            _("Between %(low)s and %(high)s, please.", low=low, high=high), field=field
        )
    return value


def _lock_item(item_id: int) -> Item:
    found = locked(Item.select().where(Item.id == item_id)).first()
    if found is None:
        raise NotFound(_("No such item."))
    return found


def _lock_contest(contest: GoldContest) -> GoldContest:
    found = locked(GoldContest.select().where(GoldContest.id == contest.id)).first()
    if found is None:
        raise NotFound(_("No such contest."))
    return found


def set_quality_rules(client: User, project: Project, *, gold_rate_bp: int,
                      accuracy_threshold_bp: int, min_gold_answers: int) -> Project:
    """Set a project's gold rate, accuracy threshold and gold answers needed, within the
    board's bounds."""
    if not client.is_client or project.client_id != client.id:
        raise NotFound(_("No such project among yours."))
    params = params_module.current()
    gold_rate_bp = _int_in(gold_rate_bp, 0, 10_000, "gold_rate_bp")
    accuracy_threshold_bp = _int_in(
        accuracy_threshold_bp, 0, params.quality_threshold_max_bp, "accuracy_threshold_bp"
    )
    min_gold_answers = _int_in(
        min_gold_answers, params.quality_min_gold_answers, 1000, "min_gold_answers"
    )
    with write_transaction():
        Project.update(
            gold_rate_bp=gold_rate_bp,
            accuracy_threshold_bp=accuracy_threshold_bp,
            min_gold_answers=min_gold_answers,
        ).where(Project.id == project.id).execute()
        record(
            "project.quality_rules_set",
            f"project:{project.id}",
            project=project.id,
            gold_rate_bp=gold_rate_bp,
            accuracy_threshold_bp=accuracy_threshold_bp,
            min_gold_answers=min_gold_answers,
        )
    return Project.get_by_id(project.id)


def contest_gold(member: User, answer: Answer, reason: str) -> GoldContest:
    """Contest the expected answer of a gold item the member answered; it stops counting."""
    if not member.is_member or answer.member_id != member.id or answer.gold_correct is None:
        raise NotFound(_("No such gold answer among yours."))
    reason = _reason(reason)
    with write_transaction():
        item = _lock_item(answer.item_id)
        if item.gold_state == GoldState.REMOVED:
            raise Conflict(_("This gold item was already found wrong and removed."))
        if GoldContest.select().where(
            (GoldContest.item == item.id) & (GoldContest.member == member.id)
        ).exists():
            raise Conflict(_("You have already contested this gold item."))
        contest = GoldContest.create(
            item=item.id, project=answer.project_id, member=member.id, answer=answer.id,
            reason=reason,
        )
        Item.update(gold_state=GoldState.CONTESTED).where(Item.id == item.id).execute()
        record(
            "gold.contested",
            f"gold_contest:{contest.id}",
            project=answer.project_id,
            item=_sha256(item.external_id),
            member=member.pseudonym,
            reason_sha256=_sha256(reason),
        )
    return GoldContest.get_by_id(contest.id)


def _settle_item(item: Item) -> None:
    """Give the item back its count once no contest on it waits for a decision."""
    waiting = GoldContest.select().where(
        (GoldContest.item == item.id) & (GoldContest.state.in_(list(PENDING)))
    )
    if item.gold_state == GoldState.CONTESTED and not waiting.exists():
        Item.update(gold_state=GoldState.ACTIVE).where(Item.id == item.id).execute()


def _remove_gold(item: Item, now) -> int:
    """Remove a gold item found wrong, closing its other contests; return answers recounted."""
    Item.update(gold_state=GoldState.REMOVED, free=0).where(Item.id == item.id).execute()
    GoldContest.update(state=ContestState.FOUND_WRONG, decided_at=now).where(
        (GoldContest.item == item.id) & (GoldContest.state.in_(list(PENDING)))
    ).execute()
    return Answer.select().where(
        (Answer.item == item.id) & Answer.gold_correct.is_null(False)
    ).count()


def _decide(contest: GoldContest, wrong: bool, note: str, by: str, kind: str,
            waiting: ContestState, kept: ContestState) -> GoldContest:
    now = utcnow()
    with write_transaction():
        item = _lock_item(contest.item_id)
        contest = _lock_contest(contest)
        if contest.state != waiting:
            raise Conflict(_("This contest has already been decided."))
        state = ContestState.FOUND_WRONG if wrong else kept
        GoldContest.update(state=state, decided_at=now, decision_note=note).where(
            GoldContest.id == contest.id
        ).execute()
        recounted = _remove_gold(item, now) if wrong else 0
        if not wrong:
            _settle_item(item)
        record(
            kind,
            f"gold_contest:{contest.id}",
            project=contest.project_id,
            item=_sha256(item.external_id),
            member=contest.member.pseudonym,
            decision="found_wrong" if wrong else "upheld",
            by=by,
            answers_recounted=recounted,
            note_sha256=_sha256(note),
        )
    return GoldContest.get_by_id(contest.id)


def decide_contest(client: User, contest: GoldContest, *, wrong: bool,
                   note: str) -> GoldContest:
    """Decide a contest on the client's project: the gold answer was wrong, or it stands."""
    if not client.is_client or contest.project.client_id != client.id:
        raise NotFound(_("No such contest among your projects."))
    note = _reason(note, "note")
    return _decide(contest, wrong, note, "client", "gold.contest_decided",
                   ContestState.OPEN, ContestState.UPHELD)


def appeal_contest(member: User, contest: GoldContest, reason: str) -> GoldContest:
    """Appeal to the board a contest the client turned down; the item is held again."""
    if not member.is_member or contest.member_id != member.id:
        raise NotFound(_("No such contest among yours."))
    reason = _reason(reason)
    now = utcnow()
    with write_transaction():
        item = _lock_item(contest.item_id)
        contest = _lock_contest(contest)
        if contest.state != ContestState.UPHELD:
            raise Conflict(_("Only a contest the client turned down can be appealed."))
        GoldContest.update(
            state=ContestState.APPEALED, appeal_reason=reason, appealed_at=now
        ).where(GoldContest.id == contest.id).execute()
        if item.gold_state == GoldState.ACTIVE:
            Item.update(gold_state=GoldState.CONTESTED).where(Item.id == item.id).execute()
        record(
            "gold.appealed",
            f"gold_contest:{contest.id}",
            project=contest.project_id,
            item=_sha256(item.external_id),
            member=member.pseudonym,
            reason_sha256=_sha256(reason),
        )
    return GoldContest.get_by_id(contest.id)


def decide_appeal(board: User, contest: GoldContest, *, wrong: bool, note: str) -> GoldContest:
    """Decide an appeal as the board: final."""
    if not board.is_board:
        raise Forbidden(_("Only the board decides appeals."))
    note = _reason(note, "note")
    return _decide(contest, wrong, note, "board", "gold.appeal_decided",
                   ContestState.APPEALED, ContestState.APPEAL_UPHELD)
