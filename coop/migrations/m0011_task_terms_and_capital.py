"""Tasks keep the margin in force when taken; the capital register (parts sociales).

A task's margin is what the member agreed to when taking it: a margin raised later must not cut
their pay. Tasks taken before this migration have none and are paid at the margin in force at
completion, as before.

The capital register lists every subscription, release (paying up), transfer and redemption of
shares, dated by its ledger entry; dividends are paid on the capital held during the period.
"""

import peewee
from playhouse.migrate import migrate


def frozen_capital_movement(database):
    """The capital_movement table as this migration creates it."""

    class User(peewee.Model):
        class Meta:
            table_name = "user"

    class CapitalMovement(peewee.Model):
        member = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        kind = peewee.CharField(max_length=16)
        subscribed_delta_cents = peewee.BigIntegerField()
        paid_delta_cents = peewee.BigIntegerField()
        counterparty = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        note = peewee.CharField(max_length=200, default="")
        recorded_by = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        unix_ns = peewee.BigIntegerField(index=True)
        ledger_index = peewee.BigIntegerField(null=True)

        class Meta:
            table_name = "capital_movement"

    User._meta.set_database(database)
    CapitalMovement._meta.set_database(database)
    return CapitalMovement


def up(migrator, database):
    migrate(migrator.add_column("task", "margin_bp", peewee.IntegerField(null=True)))
    database.create_tables([frozen_capital_movement(database)], safe=True)
