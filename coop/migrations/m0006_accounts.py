"""Accounts: a session generation and a disabled date on each user, and password-reset links.

Declared here as they are at this step, not imported from coop.models.
"""

from datetime import UTC, datetime

import peewee


def _utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


COLUMNS = {
    "session_generation": peewee.IntegerField(default=0),
    "disabled_at": peewee.DateTimeField(null=True),
}


def up(migrator, database):
    class User(peewee.Model):
        class Meta:
            table_name = "user"

    class PasswordReset(peewee.Model):
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        token_sha256 = peewee.CharField(max_length=64, unique=True)
        created_at = peewee.DateTimeField(default=_utcnow)
        expires_at = peewee.DateTimeField()
        used_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "password_reset"

    from playhouse.migrate import migrate

    migrate(*(migrator.add_column("user", name, field) for name, field in COLUMNS.items()))
    database.bind([User, PasswordReset], bind_refs=False, bind_backrefs=False)
    database.create_tables([PasswordReset], safe=True)
