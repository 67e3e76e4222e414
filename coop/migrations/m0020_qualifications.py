"""Qualifications and fair assignment.

A qualification's test is a project of gold items (project.is_test); a member's go at it is a
sitting, and the leases of a sitting carry its number (assignment.sitting, 0 on work
projects), so the unique lease of an item to a member becomes unique per sitting: work
projects keep "never the same item twice", a retake answers the test again. A project may
require qualifications, and may keep its last answers for members who worked less this week
(project.fair_share). The tables are declared here as they were when this migration shipped.
"""

import peewee
from playhouse.migrate import migrate


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

    class Qualification(Base):
        owner = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
        name = peewee.CharField(max_length=120)
        description = peewee.TextField()
        test = peewee.ForeignKeyField(Project, unique=True, on_delete="RESTRICT")
        pass_mark_bp = peewee.IntegerField()
        validity_days = peewee.IntegerField()
        retake_days = peewee.IntegerField()
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "qualification"

    class Sitting(Base):
        qualification = peewee.ForeignKeyField(Qualification, on_delete="CASCADE")
        member = peewee.ForeignKeyField(User, on_delete="RESTRICT")
        number = peewee.IntegerField()
        started_at = peewee.DateTimeField()
        finished_at = peewee.DateTimeField(null=True)
        correct = peewee.IntegerField(default=0)
        total = peewee.IntegerField(default=0)
        passed = peewee.BooleanField(null=True)
        expires_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "qualification_sitting"
            indexes = ((("qualification", "member", "number"), True),)

    class Requirement(Base):
        project = peewee.ForeignKeyField(Project, on_delete="CASCADE")
        qualification = peewee.ForeignKeyField(Qualification, on_delete="RESTRICT")

        class Meta:
            table_name = "project_qualification"
            indexes = ((("project", "qualification"), True),)

    tables = [Qualification, Sitting, Requirement]
    database.bind(tables, bind_refs=False, bind_backrefs=False)
    return tables


def up(migrator, database):
    migrate(
        migrator.add_column("project", "is_test", peewee.BooleanField(default=False)),
        migrator.add_column("project", "fair_share", peewee.BooleanField(default=False)),
        migrator.add_column("assignment", "sitting", peewee.IntegerField(default=0)),
        migrator.drop_index("assignment", "assignment_item_id_member_id"),
        migrator.add_index("assignment", ("item_id", "member_id", "sitting"), True),
    )
    database.create_tables(_models(database), safe=True)
