"""A member's statement shows the inputs of their share (issue 12, item 12): each key of the
work share in force with its pot, the member's figure and the coop's total; the capital they
held during the month against the members' total; the close's ledger index and how to check
it. The worked example of docs/profit-sharing.md, for Bob."""

from test_statements_close import (  # noqa: F401 - fixtures
    AFTER,
    MONTH,
    attachment,
    example_month,
    pdftext,
    statements_app,
)

from coop.audit.events import events_for
from coop.statements import operations


def test_bobs_statement_shows_what_his_share_was_computed_from(
    example_month, make_board, tmp_path  # noqa: F811 - fixtures
):
    operations.close_and_issue(make_board(), MONTH, now=AFTER)
    bob = example_month["bob"]
    _, pdf = operations.member_pdf(bob, MONTH, bob.id, draft=False, now=AFTER)
    inputs = attachment(pdf, tmp_path)["share_inputs"]
    assert inputs["keys"] == [
        {"key": "earnings", "weight_pct": 50, "pot_cents": 386, "member": 12726, "coop": 27497},
        {"key": "hours", "weight_pct": 30, "pot_cents": 231, "member": 195, "coop": 420},
        {"key": "equal", "weight_pct": 20, "pot_cents": 154, "member": 1, "coop": 3},
    ]
    assert (inputs["work_share_pot_cents"], inputs["work_share_cents"]) == (771, 337)
    assert (inputs["dividends_pot_cents"], inputs["dividend_cents"]) == (171, 103)
    assert inputs["capital_cents"] == 30000 and inputs["total_capital_cents"] == 50000
    text = pdftext(pdf, tmp_path)
    assert "How your share was computed" in text
    for figure in ("€3.86", "€127.26", "€274.97", "€2.31", "195", "420", "€1.54",
                   "€7.71", "€3.37", "€300.00", "€500.00", "€1.71", "€1.03"):
        assert figure in text
    (closed,) = [e for e in events_for(f"period:{MONTH}") if e.kind == "period.closed"]
    assert f"ledger entry #{closed.ledger_index}" in text
    assert "/ledger" in text and "python -m ledger verify-export" in text


def test_only_the_keys_in_force_are_shown(example_month, make_board, tmp_path):  # noqa: F811
    from coop.models import Parameter

    Parameter.update(value=100).where(Parameter.key == "basis_earnings_pct").execute()
    Parameter.update(value=0).where(Parameter.key.in_(["basis_hours_pct",
                                                        "basis_equal_pct"])).execute()
    bob = example_month["bob"]
    _, pdf = operations.member_pdf(bob, MONTH, bob.id, draft=True, now=AFTER)
    keys = attachment(pdf, tmp_path)["share_inputs"]["keys"]
    assert [k["key"] for k in keys] == ["earnings"] and keys[0]["pot_cents"] == 771
