"""Projects count their answers, so an answer need not count them all.

answers_count is kept by submit_answer under the project's row lock; the floor check and the
median read it instead of a COUNT over the project's answers (O(answers): 5-8 ms per answer at
282,000). Filled here from the answers already stored.
"""

import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(migrator.add_column("project", "answers_count", peewee.IntegerField(default=0)))
    database.execute_sql(
        "UPDATE project SET answers_count = "
        "(SELECT COUNT(*) FROM answer WHERE answer.project_id = project.id)"
    )
