"""Tables of the month close: operating expenses, closed periods and issued statements.

A closed period's figures are frozen as JSON (integers only) and never recomputed; the
statements are rendered from those frozen figures and their PDFs kept content-addressed.
"""

import json

import peewee

from coop.models import BaseModel, User, utcnow


class Expense(BaseModel):
    """An operating expense the board entered for a month (YYYY-MM)."""

    month = peewee.CharField(max_length=7, index=True)
    label = peewee.CharField(max_length=120)
    amount_cents = peewee.BigIntegerField()
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    created_at = peewee.DateTimeField(default=utcnow)


class Period(BaseModel):
    """A closed month: its totals frozen, their hash on the ledger, the closing checkpoint."""

    month = peewee.CharField(max_length=7, unique=True)  # a second close breaks this
    closed_at = peewee.DateTimeField(default=utcnow)
    closed_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")  # null: CLI
    totals = peewee.TextField()  # canonical JSON of the totals
    totals_sha256 = peewee.CharField(max_length=64)
    checkpoint_size = peewee.BigIntegerField(null=True)
    checkpoint_root = peewee.CharField(max_length=64, null=True)
    checkpoint_note = peewee.TextField(default="")
    summary_sha256 = peewee.CharField(max_length=64, null=True)  # set once issued

    @property
    def totals_data(self) -> dict:
        return json.loads(self.totals)


class Statement(BaseModel):
    """One member's frozen figures for a closed period, and the PDF issued from them."""

    period = peewee.ForeignKeyField(Period, backref="statements", on_delete="RESTRICT")
    member = peewee.ForeignKeyField(User, backref="statements", on_delete="RESTRICT")
    figures = peewee.TextField()  # canonical JSON: the member's figures and task lines
    pdf_sha256 = peewee.CharField(max_length=64, null=True)  # set once issued

    class Meta:
        indexes = ((("period", "member"), True),)

    @property
    def figures_data(self) -> dict:
        return json.loads(self.figures)


MODELS = [Expense, Period, Statement]
