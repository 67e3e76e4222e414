"""A receipt says how its time was known: an entry timed by one NTP server (a real chronyd on
a loopback port) is shown as "single source", never as a bare "synchronised"."""

from ledger.clock import Clock


def test_a_single_server_receipt_says_single_source(app, chronyd, make_timed_delivery):
    clock = Clock([chronyd], timeout=0.5)
    assert clock.poll()
    task, _delivery = make_timed_delivery(clock)
    page = app.test_client(user=task.client).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "NTP, single source" in page
    assert "NTP, 1 server" not in page and "Clock not synchronised" not in page
