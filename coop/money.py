"""Money as integer cents: parsing, formatting and exact allocation."""

import re

_AMOUNT = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$")


def parse_cents(text: str) -> int:
    """Parse '12', '12.5' or '12,50' euros into cents; raise ValueError otherwise."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise ValueError("not an amount")
    euros, cents = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(euros) * 100 + int(cents)


def format_cents(cents: int, currency: str = "€") -> str:
    """Format cents as '€1,234.50' (negative amounts keep their sign)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{currency}{euros:,}.{rest:02d}"


def percent_of(cents: int, basis_points: int) -> int:
    """Return basis_points/10000 of cents, rounded half up."""
    return (cents * basis_points + 5000) // 10000


def minimum_price(floor_cents_per_hour: int, minutes: int) -> int:
    """Return the smallest price that pays floor × minutes / 60, rounded up to the cent."""
    return -(-floor_cents_per_hour * minutes // 60)


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

