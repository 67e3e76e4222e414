"""A receipt says how its time was known: an entry timed by one NTP server (a real chronyd on
a loopback port) is shown as "single source", never as a bare "synchronised"."""

import io
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest

from coop import files
from coop.audit.ledger import get_ledger
from coop.delivery import operations as delivery_ops
from coop.market import operations as market_ops
from coop.models import utcnow
from ledger.clock import Clock, NTPError, Server, query


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chronyd(tmp_path):
    """A chronyd serving its own clock (-x: it never touches this machine's) on 127.0.0.1."""
    if shutil.which("chronyd") is None:
        pytest.skip("chronyd is not installed")
    port = _free_udp_port()
    conf = tmp_path / "chrony.conf"
    conf.write_text(
        f"port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\n"
        f"cmdport 0\nbindcmdaddress /\npidfile {tmp_path}/chronyd.pid\n"
        f"driftfile {tmp_path}/chrony.drift\n"
    )
    proc = subprocess.Popen(
        [shutil.which("chronyd"), "-x", "-U", "-d", "-u", "root", "-f", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "chronyd exited"
            try:
                query(Server("127.0.0.1", port), timeout=0.5)
                break
            except NTPError:
                assert time.monotonic() < deadline, "chronyd never answered"
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(5)


def test_a_single_server_receipt_says_single_source(app, chronyd, make_client_user, make_member):
    ledger = get_ledger()
    clock = Clock([chronyd], timeout=0.5)
    assert clock.poll()
    ledger.clock, before = clock, ledger.clock
    try:
        owner, member = make_client_user(), make_member()
        task = market_ops.post_task(
            owner,
            title="Label bikes",
            description="Boxes around bikes.",
            instructions="",
            category="image_labelling",
            estimated_minutes=30,
            deadline=utcnow() + timedelta(days=1),
            pricing="fixed",
            price_cents=1000,
        )
        market_ops.claim_task(member, task.id)
        stored = files.save(io.BytesIO(b"bike,1 2 3 4\n"), "boxes.csv", "text/csv")
        delivery_ops.submit_delivery(member, task.id, [stored], "Done")
    finally:
        ledger.clock = before
    page = app.test_client(user=owner).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "NTP, single source" in page
    assert "NTP, 1 server" not in page and "Clock not synchronised" not in page
