"""Rules that protect people: a category on each rejection, and rejections held for the board.

`delivery.rejection_category` says why a client rejected (incomplete, wrong, late, other);
`rejection_review` holds the rejections of a client whose rejection rate is past the board's
threshold until a board member confirms or overturns them. Both are declared here as they are
today, not imported from coop.models: the live models change later.
"""

import peewee

REJECTION_CATEGORY = peewee.CharField(max_length=16, null=True)


def _frozen_review(database):
    class User(peewee.Model):
        class Meta:
            table_name = "user"

    class Delivery(peewee.Model):
        class Meta:
            table_name = "delivery"

    class Task(peewee.Model):
        class Meta:
            table_name = "task"

    class RejectionReview(peewee.Model):
        delivery = peewee.ForeignKeyField(Delivery, on_delete="CASCADE")
        task = peewee.ForeignKeyField(Task, on_delete="CASCADE")
        client = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        client_rejected = peewee.IntegerField()
        client_reviewed = peewee.IntegerField()
        state = peewee.CharField(max_length=16, default="open", index=True)
        decision_reason = peewee.TextField(default="")
        decided_by = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = peewee.DateTimeField()
        decided_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "rejection_review"

    for model in (User, Delivery, Task, RejectionReview):
        model.bind(database)
    return RejectionReview


def up(migrator, database):
    from playhouse.migrate import migrate

    migrate(migrator.add_column("delivery", "rejection_category", REJECTION_CATEGORY))
    database.create_tables([_frozen_review(database)], safe=True)
