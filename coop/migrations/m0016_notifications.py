"""Notifications: what happened to a person, read in the app, and which kinds they want by mail.

The tables are frozen here as this migration creates them; coop/models.py may grow later.
"""

import peewee


def _models(database):
    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Notification(Base):
        user = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE")
        kind = peewee.CharField(max_length=32)
        subject = peewee.CharField(max_length=64)
        params = peewee.TextField(default="{}")
        created_at = peewee.DateTimeField()
        read_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "notification"
            indexes = ((("user", "read_at"), False),)

    class NotificationPreference(Base):
        user = peewee.ForeignKeyField(User, backref="+", on_delete="CASCADE")
        kind = peewee.CharField(max_length=32)
        email = peewee.BooleanField()

        class Meta:
            table_name = "notification_preference"
            indexes = ((("user", "kind"), True),)

    models = [Notification, NotificationPreference]
    for model in [User, *models]:
        model._meta.set_database(database)
    return models


def up(migrator, database):
    database.create_tables(_models(database), safe=True)
