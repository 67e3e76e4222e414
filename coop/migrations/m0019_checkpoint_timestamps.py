"""Checkpoint time-stamps: the RFC 3161 tokens time-stamping authorities returned for published
checkpoints, carried in bundles, exports and results proofs to bound each entry's time.
"""

import peewee


def frozen_checkpoint_timestamp(database):
    """The checkpoint_timestamp table as this migration creates it."""

    class CheckpointTimestamp(peewee.Model):
        tsa = peewee.CharField(max_length=255)
        size = peewee.BigIntegerField()
        token = peewee.BlobField()
        gen_ns = peewee.BigIntegerField()
        accuracy_ns = peewee.BigIntegerField()
        qualified = peewee.BooleanField(default=False)
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "checkpoint_timestamp"
            indexes = ((("tsa", "size"), True), (("size",), False))

    CheckpointTimestamp._meta.set_database(database)
    return CheckpointTimestamp


def up(migrator, database):
    database.create_tables([frozen_checkpoint_timestamp(database)], safe=True)
