"""Tables of the month and year close: expenses, closed months and years, issued statements.

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


class FiscalYear(BaseModel):
    """A closed fiscal year (m0028): its result split under art. 33, frozen like a month's."""

    year = peewee.IntegerField(unique=True)  # the calendar year it starts in; a second close
    first_month = peewee.CharField(max_length=7)  # YYYY-MM, its first closed month
    last_month = peewee.CharField(max_length=7)
    closed_at = peewee.DateTimeField(default=utcnow)
    closed_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")  # null: CLI
    totals = peewee.TextField()  # canonical JSON of the year's totals
    totals_sha256 = peewee.CharField(max_length=64)
    ledger_index = peewee.BigIntegerField(null=True)  # the fiscal_year.closed entry
    checkpoint_size = peewee.BigIntegerField(null=True)
    checkpoint_root = peewee.CharField(max_length=64, null=True)
    checkpoint_note = peewee.TextField(default="")

    @property
    def totals_data(self) -> dict:
        return json.loads(self.totals)


class AnnualStatement(BaseModel):
    """One member's frozen figures for a closed fiscal year, and the PDF issued from them."""

    fiscal_year = peewee.ForeignKeyField(FiscalYear, backref="statements", on_delete="RESTRICT")
    member = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    figures = peewee.TextField()  # canonical JSON: the member's year, reconciliation, months
    pdf_sha256 = peewee.CharField(max_length=64, null=True)  # set once issued

    class Meta:
        indexes = ((("fiscal_year", "member"), True),)

    @property
    def figures_data(self) -> dict:
        return json.loads(self.figures)


MODELS = [Expense, Period, Statement, FiscalYear, AnnualStatement]
