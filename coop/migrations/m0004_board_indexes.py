"""Index the members' task board for every sort and filter it offers.

The board lists open tasks filtered by category, pricing and sensitivity, sorted by pay per
hour or by deadline; an index that leads with state and the sort column and carries the
filter columns lets both databases answer a page without scanning 100,000 tasks
(docs/performance.md). It replaces the narrower (state, pay per hour) index.
"""

STATEMENTS = [
    "DROP INDEX IF EXISTS task_state_pay_per_hour_cents",
    "CREATE INDEX IF NOT EXISTS task_board_pay "
    "ON task (state, pay_per_hour_cents, category, pricing, sensitive)",
    "CREATE INDEX IF NOT EXISTS task_board_deadline "
    "ON task (state, deadline, category, pricing, sensitive)",
]


def up(migrator, database):
    for statement in STATEMENTS:
        database.execute_sql(statement)
