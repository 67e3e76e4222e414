"""Fiscal years: the close of a year of months, and each member's annual statement.

The tables are frozen here as this migration creates them; coop/statements/models.py may grow.
"""

import peewee


def _models(database):
    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class FiscalYear(Base):
        year = peewee.IntegerField(unique=True)
        first_month = peewee.CharField(max_length=7)
        last_month = peewee.CharField(max_length=7)
        closed_at = peewee.DateTimeField()
        closed_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        totals = peewee.TextField()
        totals_sha256 = peewee.CharField(max_length=64)
        ledger_index = peewee.BigIntegerField(null=True)
        checkpoint_size = peewee.BigIntegerField(null=True)
        checkpoint_root = peewee.CharField(max_length=64, null=True)
        checkpoint_note = peewee.TextField(default="")

        class Meta:
            table_name = "fiscal_year"

    class AnnualStatement(Base):
        fiscal_year = peewee.ForeignKeyField(FiscalYear, backref="+", on_delete="RESTRICT")
        member = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        figures = peewee.TextField()
        pdf_sha256 = peewee.CharField(max_length=64, null=True)

        class Meta:
            table_name = "annual_statement"
            indexes = ((("fiscal_year", "member"), True),)

    models = [FiscalYear, AnnualStatement]
    for model in [User, *models]:
        model._meta.set_database(database)
    return models


def up(migrator, database):
    database.create_tables(_models(database), safe=True)
