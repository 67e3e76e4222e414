"""The general assembly's votes: proposals with their frozen rules, and one ballot per member.

The tables are frozen here as this migration creates them; coop/governance/models.py may grow.
"""

import peewee


def _models(database):
    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Vote(Base):
        kind = peewee.CharField(max_length=16)
        title = peewee.CharField(max_length=120)
        fiscal_year = peewee.IntegerField(null=True)
        changes = peewee.TextField()
        statutory = peewee.BooleanField(default=False)
        quorum_bp = peewee.IntegerField()
        majority_bp = peewee.IntegerField()
        opens_at = peewee.DateTimeField()
        closes_at = peewee.DateTimeField(index=True)
        proposed_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = peewee.DateTimeField()
        proposal_ledger_index = peewee.BigIntegerField(null=True)
        notified_at = peewee.DateTimeField(null=True)
        counted_at = peewee.DateTimeField(null=True)
        outcome = peewee.CharField(max_length=16, null=True)
        electorate = peewee.IntegerField(null=True)
        yes_count = peewee.IntegerField(null=True)
        no_count = peewee.IntegerField(null=True)
        abstain_count = peewee.IntegerField(null=True)
        applied = peewee.BooleanField(default=False)
        result_ledger_index = peewee.BigIntegerField(null=True)

        class Meta:
            table_name = "vote"

    class Ballot(Base):
        vote = peewee.ForeignKeyField(Vote, backref="+", on_delete="RESTRICT")
        member = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        choice = peewee.CharField(max_length=8)
        nonce = peewee.CharField(max_length=64)
        commitment = peewee.CharField(max_length=64)
        cast_at = peewee.DateTimeField()
        changed_at = peewee.DateTimeField()

        class Meta:
            table_name = "ballot"
            indexes = ((("vote", "member"), True),)

    models = [Vote, Ballot]
    for model in [User, *models]:
        model._meta.set_database(database)
    return models


def up(migrator, database):
    database.create_tables(_models(database), safe=True)
