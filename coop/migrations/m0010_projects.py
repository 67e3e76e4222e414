"""Create the micro-task project tables: projects, items, assignments, answers, earnings.

The models are frozen here as they were when this migration shipped; the live ones in
coop/projects/models.py may grow later without changing what this migration does.
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
        client = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        title = peewee.CharField(max_length=120)
        instructions = peewee.TextField()
        template = peewee.TextField()
        price_cents = peewee.BigIntegerField()
        estimated_seconds = peewee.IntegerField()
        overlap = peewee.IntegerField(default=1)
        deadline = peewee.DateTimeField()
        budget_cents = peewee.BigIntegerField()
        sensitive = peewee.BooleanField(default=False, index=True)
        content_note = peewee.CharField(max_length=300, default="")
        state = peewee.CharField(max_length=16, default="draft", index=True)
        pause_reason = peewee.CharField(max_length=32, default="")
        margin_bp = peewee.IntegerField(null=True)
        floor_cents_per_hour = peewee.BigIntegerField(null=True)
        items_count = peewee.IntegerField(default=0)
        created_at = peewee.DateTimeField()
        published_at = peewee.DateTimeField(null=True)
        finished_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "project"

    class Item(Base):
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        external_id = peewee.CharField(max_length=200)
        data = peewee.TextField()
        media = peewee.TextField(default="{}")
        answers_count = peewee.IntegerField(default=0)
        active_count = peewee.IntegerField(default=0)
        free = peewee.IntegerField()

        class Meta:
            table_name = "item"
            indexes = ((("project", "external_id"), True),)

    class Assignment(Base):
        item = peewee.ForeignKeyField(Item, on_delete="CASCADE")
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        started_at = peewee.DateTimeField()
        expires_at = peewee.DateTimeField(index=True)
        state = peewee.CharField(max_length=16, default="active", index=True)
        skip_reason = peewee.CharField(max_length=32, default="")
        ended_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "assignment"
            indexes = ((("item", "member"), True), (("member", "state"), False))

    class Answer(Base):
        assignment = peewee.ForeignKeyField(Assignment, unique=True, on_delete="CASCADE")
        item = peewee.ForeignKeyField(Item, on_delete="CASCADE")
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        data = peewee.TextField()
        sha256 = peewee.CharField(max_length=64)
        seconds = peewee.IntegerField()
        state = peewee.CharField(max_length=16, default="pending")
        submitted_at = peewee.DateTimeField()
        ledger_index = peewee.BigIntegerField(null=True)
        unix_ns = peewee.BigIntegerField()
        uncertainty_ns = peewee.BigIntegerField(default=0)
        reject_category = peewee.CharField(max_length=32, default="")
        reject_reason = peewee.TextField(default="")
        reviewed_at = peewee.DateTimeField(null=True)
        auto_accepted = peewee.BooleanField(default=False)

        class Meta:
            table_name = "answer"
            indexes = (
                (("project", "state"), False),
                (("project", "ledger_index"), False),
                (("project", "seconds"), False),
            )

    class AnswerEarning(Base):
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        answer = peewee.ForeignKeyField(Answer, index=True, on_delete="RESTRICT")
        kind = peewee.CharField(max_length=8, default="answer")
        project = peewee.ForeignKeyField(Project, on_delete="RESTRICT")
        price_cents = peewee.BigIntegerField()
        earnings_cents = peewee.BigIntegerField()
        margin_cents = peewee.BigIntegerField()
        created_at = peewee.DateTimeField()
        ledger_index = peewee.BigIntegerField(null=True)
        unix_ns = peewee.BigIntegerField(index=True)

        class Meta:
            table_name = "answer_earning"

    tables = [Project, Item, Assignment, Answer, AnswerEarning]
    database.bind(tables, bind_refs=False, bind_backrefs=False)
    return tables


STATEMENTS = [
    # An answer is paid once; the price raises that follow add top-up rows beside it.
    "CREATE UNIQUE INDEX IF NOT EXISTS answer_earning_once "
    "ON answer_earning (answer_id) WHERE kind = 'answer'",
    # The next item to lease, and whether a project is done, without scanning done items.
    "CREATE INDEX IF NOT EXISTS item_free ON item (project_id, id) WHERE free > 0",
    "CREATE INDEX IF NOT EXISTS item_active ON item (project_id) WHERE active_count > 0",
]


def up(migrator, database):
    database.create_tables(_models(database), safe=True)
    for statement in STATEMENTS:
        database.execute_sql(statement)
