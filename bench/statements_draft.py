"""Benchmark: a member's draft statement for a month of N members (1,000 by default).

The first draft computes the whole month; the next member's draft, with nothing changed,
reuses that computation (issue 12, item 16) and computes only their own share. Reports the
month's computation alone, the cached lookup (its fingerprint queries) alone, and two
members' draft PDFs end to end. SQLite in a temporary folder.

Prints one JSON line. Run: `.venv/bin/python bench/statements_draft.py [members]`.
"""

import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop import calendar, create_app  # noqa: E402
from coop.db import database  # noqa: E402
from coop.models import MemberStatus, Role, User, utcnow  # noqa: E402
from coop.statements.models import Expense  # noqa: E402


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return round(time.perf_counter() - started, 3)


def main(members: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="coop-bench-draft-"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder / 'coop.db'}",
        "INSTANCE_DIR": str(folder), "UPLOAD_DIR": str(folder / "files"), "NTP_SERVERS": "",
        "QUEUE_URL": "immediate://", "RENDER_PROCESSES": 1,
    })
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        database.connect(reuse_if_open=True)
        month = calendar.month_key(utcnow())
        common = {"password_hash": "x", "member_status": MemberStatus.ACTIVE}
        with database.atomic():
            User.insert_many([
                {"email": f"m{i}@bench", "name": f"Member {i}", "role": Role.MEMBER,
                 "pseudonym": f"w-{i:05d}", "capital_cents": 1000 + i,
                 "created_at": utcnow() - timedelta(days=90), **common}
                for i in range(members)
            ]).execute()
            Expense.create(month=month, label="Hosting", amount_cents=5000)
        from coop.statements import operations

        first, second = list(User.select().order_by(User.id).limit(2))
        compute_s = _seconds(lambda: operations.compute(month))
        first_s = _seconds(lambda: operations.member_pdf(first, month, first.id, draft=True))
        second_s = _seconds(lambda: operations.member_pdf(second, month, second.id, draft=True))
        lookup_s = _seconds(lambda: operations.compute_cached(month))
        return {
            "members": members,
            "month_computation_s": compute_s,
            "cached_lookup_s": lookup_s,
            "first_member_draft_s": first_s,
            "next_member_draft_s": second_s,
        }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
