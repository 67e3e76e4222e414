"""Text search over the task board, and members' ratings of the clients they worked for.

Search needs a real index on each backend (docs/performance.md):

- SQLite: an external-content FTS5 table over task title and description (the text is stored
  once, in `task`), kept in step by triggers, filled from the existing tasks here. The
  `unicode61` tokenizer folds case and diacritics, so "resume" finds "résumé".
- PostgreSQL: a GIN index on the expression `to_tsvector('simple', title || ' ' || description)`,
  which coop/market/search.py repeats word for word so the planner uses it. `simple` lowercases
  without stemming: task texts are French and English, and an English stemmer would mangle the
  French words (and the reverse), while a search for a word finds that word in either language.
  An expression index rather than a generated column keeps the table the models declare.

The client_rating table is frozen here as this migration creates it.
"""

import peewee

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS task_fts USING fts5("
    "title, description, content='task', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS task_fts_insert AFTER INSERT ON task BEGIN "
    "INSERT INTO task_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER IF NOT EXISTS task_fts_delete AFTER DELETE ON task BEGIN "
    "INSERT INTO task_fts(task_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER IF NOT EXISTS task_fts_update AFTER UPDATE OF title, description ON task "
    "BEGIN "
    "INSERT INTO task_fts(task_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO task_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "INSERT INTO task_fts(task_fts) VALUES ('rebuild')",
]

POSTGRES_SEARCH = [
    "CREATE INDEX IF NOT EXISTS task_search ON task "
    "USING GIN (to_tsvector('simple', title || ' ' || description))",
]


def frozen_client_rating(database):
    """The client_rating table as this migration creates it."""

    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Task(Base):
        class Meta:
            table_name = "task"

    class ClientRating(Base):
        task = peewee.ForeignKeyField(Task, backref="+", on_delete="CASCADE", unique=True)
        member = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE")
        client = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE", index=True)
        stars = peewee.SmallIntegerField()
        comment = peewee.CharField(max_length=300, default="")
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "client_rating"

    for model in (User, Task, ClientRating):
        model._meta.set_database(database)
    return ClientRating


def up(migrator, database):
    statements = SQLITE_SEARCH
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        statements = POSTGRES_SEARCH
    for statement in statements:
        database.execute_sql(statement)
    database.create_tables([frozen_client_rating(database)], safe=True)
