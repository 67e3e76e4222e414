"""Create the job table: work handed to `coop worker`, its owner, progress and result.

The model is frozen here as it was when this migration shipped.
"""

import datetime

import peewee


def up(migrator, database):
    class User(peewee.Model):
        class Meta:
            table_name = "user"

    class Job(peewee.Model):
        kind = peewee.CharField(max_length=32)
        subject = peewee.CharField(max_length=64)
        owner = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        board = peewee.BooleanField(default=False)
        state = peewee.CharField(max_length=16, default="queued", index=True)
        done = peewee.IntegerField(default=0)
        total = peewee.IntegerField(default=0)
        result = peewee.TextField(default="")
        error = peewee.TextField(default="")
        attempts = peewee.IntegerField(default=0)
        worker = peewee.CharField(max_length=128, default="")
        created_at = peewee.DateTimeField(default=datetime.datetime.now)
        started_at = peewee.DateTimeField(null=True)
        heartbeat_at = peewee.DateTimeField(null=True)
        finished_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "job"
            indexes = ((("kind", "subject", "state"), False),)

    database.bind([User, Job], bind_refs=False, bind_backrefs=False)
    database.create_tables([Job])
