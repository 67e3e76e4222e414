"""Witness cosignatures: the cosignature/v1 lines each configured witness returned for a
published checkpoint, served appended to /ledger/checkpoint.
"""

import peewee


def frozen_witness_cosignature(database):
    """The witness_cosignature table as this migration creates it."""

    class WitnessCosignature(peewee.Model):
        witness = peewee.CharField(max_length=255)
        size = peewee.BigIntegerField()
        line = peewee.TextField()
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "witness_cosignature"
            indexes = ((("witness", "size"), True),)

    WitnessCosignature._meta.set_database(database)
    return WitnessCosignature


def up(migrator, database):
    database.create_tables([frozen_witness_cosignature(database)], safe=True)
