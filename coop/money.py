"""Money as integer cents: parsing, net pay after the margin, and exact allocation.

Formatting for people is coop.formats (in the reader's language).
"""

import re

_AMOUNT = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$")


def parse_cents(text: str) -> int:
    """Parse '12', '12.5' or '12,50' euros into cents; raise ValueError otherwise."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise ValueError("not an amount")
    euros, cents = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(euros) * 100 + int(cents)


def percent_of(cents: int, basis_points: int) -> int:
    """Return basis_points/10000 of cents, rounded half up."""
    return (cents * basis_points + 5000) // 10000


def minimum_price(floor_cents_per_hour: int, minutes: int) -> int:
    """Return the smallest price that pays floor × minutes / 60, rounded up to the cent."""
    return -(-floor_cents_per_hour * minutes // 60)


def net_of(price_cents: int, margin_bp: int) -> int:
    """Return what the member earns of a price: the price less the coop's margin."""
    return price_cents - percent_of(price_cents, margin_bp)


def floor_pay(floor_cents_per_hour: int, seconds: int) -> int:
    """Return the floor's pay for seconds of work, rounded up to the cent."""
    return -(-floor_cents_per_hour * seconds // 3600)


def minimum_gross_price(floor_cents_per_hour: int, margin_bp: int, seconds: int) -> int:
    """Return the smallest price whose net pay (after the margin) meets the floor for seconds.

    The pay floor is what the member nets per hour: at a 12 €/h floor and an 8 % margin a
    30-minute task must cost 6.52 €, not 6.00 € (which nets only 11.04 €/h).
    """
    need = floor_pay(floor_cents_per_hour, seconds)
    price = -(-need * 10_000 // (10_000 - margin_bp)) if margin_bp < 10_000 else need
    # percent_of rounds half up, so the closed form can miss by a cent either way.
    while price > 1 and net_of(price - 1, margin_bp) >= need:
        price -= 1
    while net_of(price, margin_bp) < need:
        price += 1
    return price


def net_per_hour(net_cents: int, minutes: int) -> int:
    """Return what net_cents for minutes of work pays per hour, in cents (rounded down)."""
    return net_cents * 60 // max(minutes, 1)


def allocate(pot: int, weights: list[int]) -> list[int]:
    """Split pot cents pro rata to weights by largest remainder; parts sum exactly to pot."""
    if pot < 0:
        raise ValueError("pot must not be negative")
    total = sum(weights)
    if not weights:
        return []
    if total <= 0:
        return [0] * len(weights)
    shares = [pot * w // total for w in weights]
    remainders = [(pot * w % total, -i) for i, w in enumerate(weights)]
    leftover = pot - sum(shares)
    for _, neg_index in sorted(remainders, reverse=True)[:leftover]:
        shares[-neg_index] += 1
    return shares

