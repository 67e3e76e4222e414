"""Create the month-close tables: expenses, closed periods and statements (frozen shapes)."""

import peewee

from coop.migrations.m0001_initial import frozen_models as step_one


def up(migrator, database):
    user_table = next(model for model in step_one(database) if model.__name__ == "User")

    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    Base._meta.set_database(database)

    class Expense(Base):
        month = peewee.CharField(max_length=7, index=True)
        label = peewee.CharField(max_length=120)
        amount_cents = peewee.BigIntegerField()
        created_by = peewee.ForeignKeyField(user_table, null=True, on_delete="RESTRICT")
        created_at = peewee.DateTimeField()

    class Period(Base):
        month = peewee.CharField(max_length=7, unique=True)
        closed_at = peewee.DateTimeField()
        closed_by = peewee.ForeignKeyField(user_table, null=True, on_delete="RESTRICT")
        totals = peewee.TextField()
        totals_sha256 = peewee.CharField(max_length=64)
        checkpoint_size = peewee.BigIntegerField(null=True)
        checkpoint_root = peewee.CharField(max_length=64, null=True)
        checkpoint_note = peewee.TextField()
        summary_sha256 = peewee.CharField(max_length=64, null=True)

    class Statement(Base):
        period = peewee.ForeignKeyField(Period, on_delete="RESTRICT")
        member = peewee.ForeignKeyField(user_table, on_delete="RESTRICT")
        figures = peewee.TextField()
        pdf_sha256 = peewee.CharField(max_length=64, null=True)

        class Meta:
            indexes = ((("period", "member"), True),)

    database.create_tables([Expense, Period, Statement], safe=True)
