"""A member's draft statement reuses the month's computation while nothing it reads has
changed (issue 12, item 16): the second member's draft does not recompute the month; an
expense, a parameter, a capital movement or a new ledger entry makes the next draft recompute,
and its figures are the fresh ones. (Its speed is measured in bench/statements_draft.py.)"""

import pytest
from test_statements_close import AFTER, MONTH, attachment, example_month, statements_app  # noqa: F401

from coop.board.operations import update_parameters
from coop.capital.operations import record_movement
from coop.statements import operations


@pytest.fixture
def computations(monkeypatch):
    """Count the month's computations."""
    calls = []
    real = operations.compute

    def counting(month):
        calls.append(month)
        return real(month)

    monkeypatch.setattr(operations, "compute", counting)
    return calls


def _draft(member, tmp_path):
    _, pdf = operations.member_pdf(member, MONTH, member.id, draft=True, now=AFTER)
    return attachment(pdf, tmp_path)


def test_members_drafts_share_one_computation_until_an_input_changes(
    example_month, computations, make_board, tmp_path  # noqa: F811
):
    alice, bob = example_month["alice"], example_month["bob"]
    first = _draft(alice, tmp_path)
    _draft(bob, tmp_path)
    _draft(alice, tmp_path)
    assert computations == [MONTH]

    operations.add_expense(None, MONTH, "Postage", 100)
    after_expense = _draft(alice, tmp_path)
    assert len(computations) == 2
    assert after_expense["totals"]["expenses_cents"] == first["totals"]["expenses_cents"] + 100

    board = make_board()
    update_parameters(board, {"margin_bp": 900})  # a ledger entry
    _draft(bob, tmp_path)
    assert len(computations) == 3

    record_movement(board, "subscription", bob.id, 5000)
    record_movement(board, "release", bob.id, 5000)
    _draft(bob, tmp_path)
    assert len(computations) == 4
    _draft(alice, tmp_path)
    assert len(computations) == 4
