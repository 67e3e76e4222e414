"""Create the ledger's tables and the API tokens table (frozen shapes).

The ledger's tables have the names and columns ledger.store expects; they are declared here as
they were when this migration shipped, so a later change to ledger.store needs its own step.
"""

import peewee

from coop.migrations.m0001_initial import frozen_models as step_one


def up(migrator, database):
    user_table = next(model for model in step_one(database) if model.__name__ == "User")

    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    Base._meta.set_database(database)

    class LedgerEntry(Base):
        index = peewee.BigIntegerField(primary_key=True, column_name="idx")
        kind = peewee.CharField(max_length=64)
        body = peewee.BlobField(column_name="bytes")
        leaf_hash = peewee.BlobField()
        unix_ns = peewee.BigIntegerField()

        class Meta:
            table_name = "ledger_entry"

    class LedgerHash(Base):
        stored_index = peewee.BigIntegerField(primary_key=True)
        hash = peewee.BlobField()

        class Meta:
            table_name = "ledger_hash"

    class LedgerCheckpoint(Base):
        size = peewee.BigIntegerField(primary_key=True)
        root = peewee.BlobField()
        note = peewee.TextField()
        created_ns = peewee.BigIntegerField()

        class Meta:
            table_name = "ledger_checkpoint"

    class ApiToken(Base):
        user = peewee.ForeignKeyField(user_table, on_delete="CASCADE")
        name = peewee.CharField(max_length=100)
        token_sha256 = peewee.CharField(max_length=64, unique=True)
        prefix = peewee.CharField(max_length=12)
        created_at = peewee.DateTimeField()
        last_used_at = peewee.DateTimeField(null=True)
        revoked_at = peewee.DateTimeField(null=True)

    database.create_tables([LedgerEntry, LedgerHash, LedgerCheckpoint, ApiToken], safe=True)
