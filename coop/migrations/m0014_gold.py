"""Gold items and their contests: the expected answer on an item, the project's quality rules,
whether each answer matched its gold, and the table of contests a member raises.

The columns and the table are declared here as they were when this migration shipped.
"""

import peewee
from playhouse.migrate import migrate


def _contest_model(database):
    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Project(Base):
        class Meta:
            table_name = "project"

    class Item(Base):
        class Meta:
            table_name = "item"

    class Answer(Base):
        class Meta:
            table_name = "answer"

    class GoldContest(Base):
        item = peewee.ForeignKeyField(Item, on_delete="CASCADE")
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        answer = peewee.ForeignKeyField(Answer, on_delete="CASCADE")
        reason = peewee.TextField()
        state = peewee.CharField(max_length=16, default="open", index=True)
        created_at = peewee.DateTimeField()
        decided_at = peewee.DateTimeField(null=True)
        decision_note = peewee.TextField(default="")
        appeal_reason = peewee.TextField(default="")
        appealed_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "gold_contest"
            indexes = ((("item", "member"), True),)

    database.bind([GoldContest], bind_refs=False, bind_backrefs=False)
    return GoldContest


def up(migrator, database):
    migrate(
        migrator.add_column("item", "gold_answer", peewee.TextField(null=True)),
        migrator.add_column("item", "gold_explanation", peewee.TextField(default="")),
        migrator.add_column("item", "gold_state", peewee.CharField(max_length=16, default="")),
        migrator.add_column("answer", "gold_correct", peewee.BooleanField(null=True)),
        migrator.add_column("project", "gold_rate_bp", peewee.IntegerField(default=1000)),
        migrator.add_column("project", "accuracy_threshold_bp", peewee.IntegerField(default=0)),
        migrator.add_column("project", "min_gold_answers", peewee.IntegerField(default=10)),
    )
    database.create_tables([_contest_model(database)], safe=True)
    # Each lease reads the member's gold answers on the project: find them without a scan.
    database.execute_sql(
        "CREATE INDEX IF NOT EXISTS answer_gold ON answer (project_id, member_id) "
        "WHERE gold_correct IS NOT NULL"
    )
