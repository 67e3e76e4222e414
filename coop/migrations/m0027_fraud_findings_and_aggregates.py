"""Fraud findings: a client's or the board's report that a member's answers on a project were
given in bad faith (a bot, copy-paste), the member's written answer and the board's decision.
And the aggregates of large projects, computed by a worker and kept for the downloads.

The tables are declared here as they were when this migration shipped. Answers voided by an upheld
finding and the pay taken back need no new column: they are a new value of answer.state
("voided") and of answer_earning.kind ("clawback").
"""

import peewee


def _models(database):
    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Project(Base):
        class Meta:
            table_name = "project"

    class FraudFinding(Base):
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        reporter = peewee.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        kind = peewee.CharField(max_length=16)
        reason = peewee.TextField()
        since = peewee.DateTimeField(null=True)
        state = peewee.CharField(max_length=16, default="open", index=True)
        created_at = peewee.DateTimeField()
        member_answer = peewee.TextField(default="")
        answered_at = peewee.DateTimeField(null=True)
        decision_note = peewee.TextField(default="")
        decided_at = peewee.DateTimeField(null=True)
        answers_voided = peewee.IntegerField(default=0)
        taken_back_cents = peewee.BigIntegerField(default=0)

        class Meta:
            table_name = "fraud_finding"
            indexes = ((("member", "project"), False),)

    class AggregateCache(Base):
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        method = peewee.CharField(max_length=16)
        cut = peewee.BigIntegerField()
        answers = peewee.IntegerField()
        last_answer = peewee.BigIntegerField()
        votes = peewee.TextField()
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "aggregate_cache"
            indexes = ((("project", "method", "cut"), False),)

    models = [FraudFinding, AggregateCache]
    database.bind(models, bind_refs=False, bind_backrefs=False)
    return models


def up(migrator, database):
    database.create_tables(_models(database), safe=True)
