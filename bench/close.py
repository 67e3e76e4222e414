"""Benchmark: the board's close button for a month of N members (1,000 by default).

The close request freezes the figures, creates a statement row per member and queues the
issuing; it must return in under 2 s (issue 13). Then the queued job runs in this process
(as a worker would, with COOP_RENDER_PROCESSES renderers) for SAMPLE PDFs to give the
worker's rate (pool start-up included). SQLite in a temporary folder.

Prints one JSON line. Run: `.venv/bin/python bench/close.py [members]`.
"""

import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop import calendar, create_app, jobs  # noqa: E402
from coop.db import database  # noqa: E402
from coop.models import Job, MemberStatus, Role, User, utcnow  # noqa: E402
from coop.statements.models import Expense  # noqa: E402

SAMPLE = 40


def main(members: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="coop-bench-close-"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "DATABASE_URL": f"sqlite:///{folder / 'coop.db'}", "INSTANCE_DIR": str(folder),
        "UPLOAD_DIR": str(folder / "files"), "NTP_SERVERS": "", "RATELIMIT_ENABLED": False,
        "QUEUE_URL": f"sqlite:///{folder / 'queue.db'}",
        "SESSION_COOKIE_SECURE": False,
    })
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        database.connect(reuse_if_open=True)
        month = calendar.shift_month(calendar.month_key(utcnow()), -1)
        common = {"password_hash": "x", "member_status": MemberStatus.ACTIVE}
        with database.atomic():
            board = User.create(email="board@bench", name="Board", role=Role.BOARD,
                                pseudonym="w-board", **common)
            User.insert_many([
                {"email": f"m{i}@bench", "name": f"Member {i}", "role": Role.MEMBER,
                 "pseudonym": f"w-{i:05d}", "capital_cents": 1000 + i,
                 "created_at": utcnow() - timedelta(days=90), **common}
                for i in range(members)
            ]).execute()
            Expense.create(month=month, label="Hosting", amount_cents=5000)
        from flask_login.utils import _create_identifier

        web = app.test_client()
        with app.test_request_context(environ_base=web.environ_base):
            identifier = _create_identifier()  # what strong session protection checks
        with web.session_transaction() as session:
            session.update(_user_id=board.get_id(), _fresh=True, _id=identifier)
        started = time.perf_counter()
        response = web.post(f"/statements/{month}/close")
        close_s = time.perf_counter() - started
        assert "/jobs/" in response.location, response.location
        job = Job.get()
        page = web.get(response.location)
        assert page.status_code == 200 and b'http-equiv="refresh"' in page.data
        # The worker's rate: issue SAMPLE PDFs of the job, then stop (as a killed worker).
        from coop.statements import operations

        period = operations.closed_period(month)
        started = time.perf_counter()
        issued = 0

        class Enough(Exception):
            pass

        def count(n):
            nonlocal issued
            issued += n
            if issued >= SAMPLE:
                raise Enough

        try:
            operations.issue_statements(period, app.config["RENDER_PROCESSES"], progress=count)
        except Enough:
            pass
        per_pdf = (time.perf_counter() - started) / issued
        return {
            "members": members,
            "close_request_s": round(close_s, 3),
            "job_state": job.state,
            "render_processes": app.config["RENDER_PROCESSES"],
            "worker_s_per_pdf": round(per_pdf, 3),
            "one_worker_all_pdfs_s": round(per_pdf * (members + 1), 1),
            "queue": jobs.queue().__class__.__name__,
        }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
