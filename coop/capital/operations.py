"""Record the capital register's movements, and read the capital held over time.

Every movement is a ledger entry (`capital.<kind>`) in the same transaction as its register
line and the member's cached balance (User.capital_cents, the paid-up capital held now). The
register is dated by the ledger, so the capital held at any past instant is today's balance
less the movements since: members whose capital predates the register held it all along.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from coop import formats
from coop.audit import events
from coop.auth.roles import require_board_or_operator as _require_board
from coop.db import locked, write_transaction
from coop.errors import DomainError, NotFound
from coop.models import CapitalKind, CapitalMovement, MemberStatus, Role, User

MAX_AMOUNT_CENTS = 10_000_000_00  # €10,000,000.00 in one movement
MAX_NOTE = 200


def _member(member_id: int) -> User:
    member = locked(User.select().where(User.id == member_id)).first()
    if member is None or member.role not in (Role.MEMBER, Role.BOARD):
        raise NotFound(_("No such member."))
    return member


def unpaid_subscribed(member: User) -> int:
    """Return the shares the member subscribed and has not paid up yet, in cents."""
    rows = CapitalMovement.select(CapitalMovement.subscribed_delta_cents,
                                  CapitalMovement.paid_delta_cents).where(
        CapitalMovement.member == member.id)
    return sum(r.subscribed_delta_cents - r.paid_delta_cents for r in rows)


def _line(actor, member, kind, subscribed, paid, counterparty=None, note=""):
    extra = {"counterparty": counterparty.pseudonym} if counterparty else {}
    event = events.record(
        f"capital.{kind}",
        f"member:{member.pseudonym}",
        member=member.pseudonym,
        subscribed_delta_cents=subscribed,
        paid_delta_cents=paid,
        **extra,
    )
    if paid:
        User.update(capital_cents=User.capital_cents + paid).where(
            User.id == member.id).execute()
    return CapitalMovement.create(
        member=member.id, kind=kind, subscribed_delta_cents=subscribed, paid_delta_cents=paid,
        counterparty=counterparty.id if counterparty else None, note=note,
        recorded_by=actor.id if actor else None, unix_ns=event.unix_ns,
        ledger_index=event.ledger_index,
    )


def record_movement(actor: User | None, kind: str, member_id: int, amount_cents: int,
                    counterparty_id: int | None = None, note: str = "") -> list[CapitalMovement]:
    """Record one movement of the register: subscription, release, transfer or redemption.

    A release pays up subscribed shares (never more than are owed); a transfer hands paid-up
    shares to another member; a redemption repays them. Neither may exceed the capital held.
    """
    _require_board(actor)
    try:
        kind = CapitalKind(kind)
    except ValueError:
        raise DomainError(_("Choose a kind of movement."), "kind") from None
    if kind == CapitalKind.TRANSFER_IN:
        raise DomainError(_("Record a transfer from the member who hands the shares."), "kind")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not (
        0 < amount_cents <= MAX_AMOUNT_CENTS
    ):
        raise DomainError(_("An amount is between €0.01 and €10,000,000.00."), "amount")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_("A note is %(max)s characters at most.", max=MAX_NOTE), "note")
    with write_transaction():
        if kind == CapitalKind.TRANSFER_OUT and counterparty_id not in (None, member_id):
            # Lock both rows in id order, so two opposite transfers cannot deadlock.
            for locked_id in sorted((member_id, counterparty_id)):
                _member(locked_id)
        member = _member(member_id)
        if kind == CapitalKind.SUBSCRIPTION:
            return [_line(actor, member, kind, amount_cents, 0, note=note)]
        if kind == CapitalKind.RELEASE:
            owed = unpaid_subscribed(member)
            if amount_cents > owed:
                raise DomainError(
                    _("Only subscribed shares can be paid up: %(name)s owes %(owed)s.",
                      name=member.name, owed=formats.money(owed)), "amount")
            return [_line(actor, member, kind, 0, amount_cents, note=note)]
        if amount_cents > member.capital_cents:
            raise DomainError(
                _("%(name)s holds %(held)s of paid-up capital: no more can leave.",
                  name=member.name, held=formats.money(member.capital_cents)), "amount")
        if kind == CapitalKind.REDEMPTION:
            return [_line(actor, member, kind, -amount_cents, -amount_cents, note=note)]
        if counterparty_id is None or counterparty_id == member.id:
            raise DomainError(_("Choose the member who receives the shares."), "counterparty")
        receiver = _member(counterparty_id)
        if receiver.member_status != MemberStatus.ACTIVE:
            raise DomainError(_("Shares can go only to an active member."), "counterparty")
        return [
            _line(actor, member, kind, -amount_cents, -amount_cents, receiver, note),
            _line(actor, receiver, CapitalKind.TRANSFER_IN, amount_cents, amount_cents, member,
                  note),
        ]


@dataclass(frozen=True)
class HeldCapital:
    """A member's capital over a period: cents × nanoseconds held, and the average."""

    member_id: int
    weight: int  # paid-up cents × nanoseconds held within the period
    average_cents: int  # weight / the period's length, rounded down


def held_during(start_ns: int, end_ns: int, member_ids) -> dict[int, HeldCapital]:
    """Return the paid-up capital each member held during [start_ns, end_ns), time-weighted."""
    ids = list(member_ids)
    if not ids:
        return {}
    balance = {u.id: u.capital_cents for u in User.select(User.id, User.capital_cents).where(
        User.id.in_(ids))}
    later = (CapitalMovement.select(CapitalMovement.member, CapitalMovement.paid_delta_cents,
                                    CapitalMovement.unix_ns)
             .where(CapitalMovement.member.in_(ids) & (CapitalMovement.unix_ns >= start_ns))
             .order_by(CapitalMovement.unix_ns.desc(), CapitalMovement.id.desc()))
    weight = dict.fromkeys(balance, 0)
    cursor = dict.fromkeys(balance, end_ns)  # walking back from the end of the period
    for row in later:
        m = row.member_id
        if row.unix_ns >= end_ns:
            balance[m] -= row.paid_delta_cents  # after the period: undo it
            continue
        weight[m] += balance[m] * (cursor[m] - row.unix_ns)
        balance[m] -= row.paid_delta_cents
        cursor[m] = row.unix_ns
    length = end_ns - start_ns
    result = {}
    for m in balance:
        weight[m] += balance[m] * (cursor[m] - start_ns)
        result[m] = HeldCapital(m, weight[m], weight[m] // length)
    return result


def highest_capital(until_ns: int) -> int:
    """Return the highest total paid-up capital the coop ever held before until_ns."""
    total = User.select(User.capital_cents).where(
        (User.capital_cents != 0) & User.role.in_([Role.MEMBER, Role.BOARD]))
    total = sum(u.capital_cents for u in total)
    moves = (CapitalMovement.select(CapitalMovement.paid_delta_cents, CapitalMovement.unix_ns)
             .order_by(CapitalMovement.unix_ns.desc(), CapitalMovement.id.desc()))
    highest = None
    for row in moves:
        if row.unix_ns < until_ns:
            highest = total if highest is None else max(highest, total)
        total -= row.paid_delta_cents
    return max(total, highest if highest is not None else total)


def register(limit: int = 200) -> list[CapitalMovement]:
    """Return the register's latest lines, newest first, with their members."""
    return list(
        CapitalMovement.select(CapitalMovement, User).join(User, on=CapitalMovement.member)
        .order_by(CapitalMovement.unix_ns.desc(), CapitalMovement.id.desc()).limit(limit)
    )
