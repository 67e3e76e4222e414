"""Create the marketplace's tables, as they were when this migration shipped.

The shapes are frozen here rather than imported from coop.models: a later migration that
alters a table must find the table as this one left it, whatever the live models say then.
"""

import peewee


def frozen_models(database) -> list[type[peewee.Model]]:
    """Return the tables of this step, bound to database."""

    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    Base._meta.set_database(database)

    class User(Base):
        email = peewee.CharField(max_length=254, unique=True)
        name = peewee.CharField(max_length=100)
        password_hash = peewee.CharField(max_length=255)
        role = peewee.CharField(max_length=16, index=True)
        member_status = peewee.CharField(max_length=16, null=True, index=True)
        application_note = peewee.TextField()
        decline_reason = peewee.TextField()
        pseudonym = peewee.CharField(max_length=32, unique=True)
        sensitive_opt_in = peewee.BooleanField()
        capital_cents = peewee.BigIntegerField()
        locale = peewee.CharField(max_length=8, null=True)
        timezone = peewee.CharField(max_length=64)
        created_at = peewee.DateTimeField()

    class Task(Base):
        client = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        title = peewee.CharField(max_length=120)
        description = peewee.TextField()
        instructions = peewee.TextField()
        category = peewee.CharField(max_length=32, index=True)
        estimated_minutes = peewee.IntegerField()
        deadline = peewee.DateTimeField()
        sensitive = peewee.BooleanField(index=True)
        content_note = peewee.CharField(max_length=300)
        pricing = peewee.CharField(max_length=8, index=True)
        price_cents = peewee.BigIntegerField(null=True)
        budget_cents = peewee.BigIntegerField(null=True)
        bidding_deadline = peewee.DateTimeField(null=True)
        pay_per_hour_cents = peewee.BigIntegerField(index=True)
        state = peewee.CharField(max_length=16, index=True)
        member = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        assigned_at = peewee.DateTimeField(null=True)
        attempts = peewee.IntegerField()
        created_at = peewee.DateTimeField()
        completed_at = peewee.DateTimeField(null=True)

        class Meta:
            indexes = ((("member", "state"), False),)

    class TaskAttachment(Base):
        task = peewee.ForeignKeyField(Task, on_delete="CASCADE")
        filename = peewee.CharField(max_length=255)
        sha256 = peewee.CharField(max_length=64, index=True)
        size = peewee.BigIntegerField()

    class Bid(Base):
        task = peewee.ForeignKeyField(Task, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        amount_cents = peewee.BigIntegerField()
        eta_hours = peewee.IntegerField()
        note = peewee.CharField(max_length=500)
        state = peewee.CharField(max_length=16, index=True)
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()

        class Meta:
            indexes = ((("task", "member"), True),)

    class Delivery(Base):
        task = peewee.ForeignKeyField(Task, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        attempt = peewee.IntegerField()
        note = peewee.TextField()
        state = peewee.CharField(max_length=16, index=True)
        submitted_at = peewee.DateTimeField(index=True)
        on_time = peewee.BooleanField()
        review_reason = peewee.TextField()
        reviewed_at = peewee.DateTimeField(null=True)
        auto_accepted = peewee.BooleanField()

    class DeliveryFile(Base):
        delivery = peewee.ForeignKeyField(Delivery, on_delete="CASCADE")
        filename = peewee.CharField(max_length=255)
        sha256 = peewee.CharField(max_length=64, index=True)
        size = peewee.BigIntegerField()
        content_type = peewee.CharField(max_length=127)

    class Dispute(Base):
        delivery = peewee.ForeignKeyField(Delivery, on_delete="CASCADE")
        task = peewee.ForeignKeyField(Task, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        reason = peewee.TextField()
        state = peewee.CharField(max_length=16, index=True)
        resolution_reason = peewee.TextField()
        resolved_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = peewee.DateTimeField()
        resolved_at = peewee.DateTimeField(null=True)

    class Earning(Base):
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        task = peewee.ForeignKeyField(Task, unique=True, on_delete="RESTRICT")
        price_cents = peewee.BigIntegerField()
        earnings_cents = peewee.BigIntegerField()
        margin_cents = peewee.BigIntegerField()
        created_at = peewee.DateTimeField(index=True)

    class Parameter(Base):
        key = peewee.CharField(max_length=64, primary_key=True)
        value = peewee.BigIntegerField()
        updated_at = peewee.DateTimeField()

    class Event(Base):
        kind = peewee.CharField(max_length=64, index=True)
        subject = peewee.CharField(max_length=64, index=True)
        data = peewee.TextField()
        created_at = peewee.DateTimeField()
        unix_ns = peewee.BigIntegerField(index=True)
        ledger_index = peewee.BigIntegerField(null=True, unique=True)

    return [
        User, Task, TaskAttachment, Bid, Delivery, DeliveryFile, Dispute, Earning, Parameter, Event,
    ]  # fmt: skip


def up(migrator, database):
    database.create_tables(frozen_models(database), safe=True)
