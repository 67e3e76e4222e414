"""The clock validates every NTP reply, obeys kiss codes, drops falsetickers and never blocks now().

A step of the system clock after a poll moves no timestamp and is reported; a lone source is
said to be one; servers that all went silent make entries unsynchronised within minutes.
A loopback responder (UDP on 127.0.0.1) plays good and bad servers; a real chronyd is used
when it is installed. The system clock is stepped by injecting the wall-clock function.
The kernel's discipline (adjtimex) is a source beside the servers, bounded by its current
maxerror, and no source when unsynchronised; the real reading matches the adjtimex tool's.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from ledger.clock import (
    DEFAULT_MAX_AGE_S,
    MIN_POLL_S,
    UNSYNCED_UNCERTAINTY_NS,
    Clock,
    KissCode,
    KissOfDeath,
    NTPError,
    Sample,
    Server,
    query,
    select_truechimers,
)

NTP_DELTA = 2208988800
PACKET = struct.Struct("!BBbbII4sQQQQ")


def _ntp(unix_ns: int) -> int:
    s, ns = divmod(unix_ns, 1_000_000_000)
    return ((s + NTP_DELTA) << 32) | ((ns << 32) // 1_000_000_000)


class Responder:
    """A tiny NTP server on 127.0.0.1 whose behaviour a test chooses."""

    def __init__(self, behaviour: str = "good", offset_s: float = 0.0):
        self.behaviour = behaviour
        self.offset_ns = int(offset_s * 1e9)
        self.requests = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(1024)
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            reply = self._reply(data)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def _reply(self, data: bytes):
        b = self.behaviour
        if b == "silent":
            return None
        (client_tx,) = struct.unpack_from("!Q", data, 40)
        now = time.time_ns() + self.offset_ns
        leap, stratum, ref_id, mode = 0, 2, b"GPS\x00", 4
        origin = client_tx
        if b in ("DENY", "RSTR", "RATE", "XXXX"):
            stratum, ref_id = 0, b.encode()
        elif b == "leap3":
            leap = 3
        elif b == "stratum0":
            stratum, ref_id = 0, b"\x00\x00\x00\x00"
        elif b == "stratum16":
            stratum = 16
        elif b == "bad_origin":
            origin = client_tx ^ 1
        elif b == "mode3":
            mode = 3
        elif b == "far_root":
            pass
        root_disp = (5 << 16) if b == "far_root" else 0x0100  # 5 s, or about 4 ms
        first = (leap << 6) | (4 << 3) | mode
        return PACKET.pack(
            first, stratum, 6, -20, 0x0080, root_disp, ref_id, _ntp(now), origin, _ntp(now),
            _ntp(now),
        )  # fmt: skip

    def close(self):
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


@pytest.fixture
def responders():
    made = []

    def make(behaviour="good", offset_s=0.0):
        r = Responder(behaviour, offset_s)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_good_server_gives_a_valid_sample(responders):
    r = responders(offset_s=0.25)
    sample = query(Server.parse(r.address), timeout=1)
    assert sample.stratum == 2
    assert abs(sample.offset_ns - 250_000_000) < 20_000_000
    assert 0 <= sample.delay_ns < 1_000_000_000


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("leap3", "leap"),
        ("stratum0", "stratum 0"),
        ("XXXX", "stratum 0"),
        ("stratum16", "stratum 16"),
        ("bad_origin", "origin"),
        ("mode3", "mode"),
        ("far_root", "root distance"),
    ],
)
def test_bad_replies_rejected(responders, behaviour, message):
    r = responders(behaviour)
    with pytest.raises(NTPError, match=message):
        query(Server.parse(r.address), timeout=1)


def test_silence_times_out(responders):
    r = responders("silent")
    started = time.monotonic()
    with pytest.raises(NTPError, match="no reply"):
        query(Server.parse(r.address), timeout=0.2)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("code", list(KissCode))
def test_kiss_codes_raised(responders, code):
    r = responders(code.value)
    with pytest.raises(KissOfDeath) as caught:
        query(Server.parse(r.address), timeout=1)
    assert caught.value.code is code


class FakeMonotonic:
    def __init__(self):
        self.ns = time.monotonic_ns()

    def __call__(self):
        return self.ns


def test_deny_and_rstr_drop_the_server_rate_backs_off(responders):
    deny, rstr, rate, good = (responders(b) for b in ("DENY", "RSTR", "RATE", "good"))
    mono = FakeMonotonic()
    clock = Clock([deny.address, rstr.address, rate.address, good.address], monotonic_ns=mono)
    clock.poll()
    assert clock.servers == [rate.address, good.address]
    assert clock.poll_interval(rate.address) == 2 * MIN_POLL_S
    assert clock.poll_interval(good.address) == MIN_POLL_S
    mono.ns += 1000 * 1_000_000_000
    clock.poll()
    assert (deny.requests, rstr.requests, rate.requests) == (1, 1, 2)
    assert clock.poll_interval(rate.address) == 4 * MIN_POLL_S


def test_never_polls_a_server_more_often_than_every_64_seconds(responders):
    r = responders()
    mono = FakeMonotonic()
    clock = Clock([r.address], monotonic_ns=mono)
    assert clock.poll()
    mono.ns += (MIN_POLL_S - 1) * 1_000_000_000
    clock.poll()
    assert r.requests == 1
    mono.ns += 2_000_000_000
    clock.poll()
    assert r.requests == 2


def test_falseticker_ten_seconds_off_is_discarded(responders):
    good = [responders(offset_s=0.1) for _ in range(3)]
    liar = responders(offset_s=10.0)
    clock = Clock([g.address for g in good] + [liar.address])
    assert clock.poll()
    block = clock.now()
    assert block.synced
    assert liar.address not in {s.server for s in block.sources}
    assert len(block.sources) == 3
    assert abs(block.unix_ns - (time.time_ns() + 100_000_000)) < 50_000_000
    assert block.uncertainty_ns < 100_000_000


def test_no_majority_means_unsynced(responders):
    a, b = responders(offset_s=0), responders(offset_s=10)
    clock = Clock([a.address, b.address])
    assert not clock.poll()
    assert clock.now().synced is False


def test_unsynced_clock_says_so():
    clock = Clock([])
    block = clock.now()
    assert block.synced is False and block.sources == ()
    assert block.uncertainty_ns == UNSYNCED_UNCERTAINTY_NS
    assert abs(block.unix_ns - time.time_ns()) < 1_000_000_000


def test_uncertainty_grows_with_age_and_expires(responders):
    r = responders()
    mono = FakeMonotonic()
    clock = Clock([r.address], monotonic_ns=mono, max_age_s=3600)
    clock.poll()
    fresh = clock.now().uncertainty_ns
    mono.ns += 1000 * 1_000_000_000
    aged = clock.now()
    assert aged.uncertainty_ns - fresh == 15_000_000  # 15 ppm of 1000 s
    assert aged.sources[0].age_ms == 1_000_000
    mono.ns += 3600 * 1_000_000_000
    assert clock.now().synced is False


def test_now_is_fast_and_never_touches_the_network(responders, monkeypatch):
    r = responders()
    clock = Clock([r.address])
    clock.poll()

    def no_network(*args, **kwargs):
        raise AssertionError("now() used the network")

    monkeypatch.setattr(socket, "socket", no_network)
    started = time.perf_counter()
    for _ in range(10_000):
        clock.now()
    assert (time.perf_counter() - started) / 10_000 < 50e-6  # generous for slow CI


def test_background_thread_polls_and_stops(responders):
    r = responders()
    clock = Clock([r.address])
    thread = clock.start_background()
    deadline = time.monotonic() + 5
    while not clock.now().synced and time.monotonic() < deadline:
        time.sleep(0.01)
    assert clock.now().synced
    clock.stop()
    assert not thread.is_alive()


@pytest.mark.parametrize("step_s", [5, -5, 3600])
def test_a_step_of_the_system_clock_moves_no_timestamp_and_is_reported(responders, step_s):
    r = responders()
    step = [0]
    clock = Clock([r.address], wall_ns=lambda: time.time_ns() + step[0])
    assert clock.poll()
    assert clock.now().uncertainty_ns < 50_000_000 and clock.last_step_ns is None
    step[0] = step_s * 1_000_000_000
    block = clock.now()
    # Still the true time, as the monotonic clock carried it, with the uncertainty it claims.
    assert block.synced and abs(block.unix_ns - time.time_ns()) < 50_000_000
    assert block.uncertainty_ns < 50_000_000
    assert abs(clock.last_step_ns - step[0]) < 50_000_000
    assert "stepped" in clock.last_errors["system clock"]
    # The step asks for a fresh sample at once, inside the usual 64 s interval.
    clock.poll()
    assert r.requests == 2
    assert abs(clock.now().unix_ns - time.time_ns()) < 50_000_000


def test_drift_inside_the_allowance_is_no_step(responders):
    r = responders()
    mono = FakeMonotonic()
    wall0, mono0 = time.time_ns(), mono.ns
    # A wall clock 10 ppm fast against the monotonic one: drift, not a step.
    clock = Clock(
        [r.address],
        monotonic_ns=mono,
        wall_ns=lambda: wall0 + (mono.ns - mono0) * 100_001 // 100_000,
    )
    clock.poll()
    mono.ns += 200 * 1_000_000_000
    assert clock.now().synced and clock.last_step_ns is None


def test_a_single_source_is_said_to_be_one(responders):
    liar = responders(offset_s=10.0)
    clock = Clock([liar.address])
    assert clock.poll()
    block = clock.now()
    assert block.synced and block.single_source and len(block.sources) == 1
    good = [responders(offset_s=0.1) for _ in range(3)]
    clock = Clock([g.address for g in good])
    assert clock.poll()
    assert clock.now().single_source is False


def test_one_agreeing_source_out_of_two_answering_is_a_single_source(responders):
    answering, silent = responders(), responders("silent")
    clock = Clock([answering.address, silent.address], timeout=0.2)
    assert clock.poll()
    assert clock.now().single_source


def test_silent_servers_make_entries_unsynced_within_minutes(responders):
    servers = [responders() for _ in range(3)]
    mono = FakeMonotonic()
    wall0, mono0 = time.time_ns(), mono.ns
    clock = Clock(
        [s.address for s in servers],
        timeout=0.1,
        monotonic_ns=mono,
        wall_ns=lambda: wall0 + mono.ns - mono0,
    )
    assert clock.poll()
    for s in servers:
        s.behaviour = "silent"
    assert DEFAULT_MAX_AGE_S <= 4 * MIN_POLL_S
    synced_for = 0
    while clock.now().synced and synced_for < 3 * 3600:
        mono.ns += MIN_POLL_S * 1_000_000_000
        synced_for += MIN_POLL_S
        clock.poll()
    # Four missed polls at most: minutes, not the three hours it used to take.
    assert synced_for <= 5 * MIN_POLL_S
    assert clock.now().uncertainty_ns == UNSYNCED_UNCERTAINTY_NS


def test_marzullo_picks_the_majority():
    def s(offset_ms, dist_ms):
        return Sample("s", 2, offset_ms * 10**6, 0, 0, dist_ms * 10**6, 0)

    samples = [s(0, 10), s(5, 10), s(8, 10), s(100, 10), s(-100, 10)]
    assert [x.offset_ns for x in select_truechimers(samples, 0)] == [0, 5 * 10**6, 8 * 10**6]
    assert select_truechimers([s(0, 1), s(50, 1)], 0) == []


def test_server_parsing():
    assert Server.parse("pool.ntp.org") == Server("pool.ntp.org", 123)
    assert Server.parse("127.0.0.1:1234") == Server("127.0.0.1", 1234)
    assert Server.parse("[::1]:1234") == Server("::1", 1234)
    assert str(Server("::1", 1234)) == "[::1]:1234"


def test_real_chronyd(chronyd):
    sample = query(Server.parse(chronyd), timeout=0.5)
    assert sample.stratum == 8
    assert abs(sample.offset_ns) < 100_000_000
    clock = Clock([chronyd], timeout=0.5)
    assert clock.poll()
    block = clock.now()
    assert block.synced and block.sources[0].stratum == 8
    assert block.single_source  # one chronyd: nothing cross-checks it


# --- the kernel's discipline (adjtimex) as a source ---------------------------------------


class FakeKernel:
    """What adjtimex would say: synchronised or not, and the error bound."""

    def __init__(self, maxerror_ms=20, synced=True, fails=False):
        self.maxerror_ns = maxerror_ms * 1_000_000
        self.synced = synced
        self.fails = fails

    def __call__(self):
        from ledger.kernel import STA_UNSYNC, TIME_ERROR, KernelTime

        if self.fails:
            raise OSError(1, "adjtimex: Operation not permitted")
        if self.synced:
            return KernelTime(0, 0x2001, self.maxerror_ns, self.maxerror_ns // 4)
        return KernelTime(TIME_ERROR, STA_UNSYNC, 16_000_000_000, 16_000_000_000)


def test_the_kernel_alone_is_one_source_bounded_by_its_current_maxerror():
    from ledger.entry import decode_entry, encode_entry
    from ledger.verify import ChainChecker

    kernel = FakeKernel(maxerror_ms=20)
    clock = Clock([], kernel=kernel)
    assert clock.poll()
    block = clock.now()
    assert block.synced and block.single_source
    assert [s.server for s in block.sources] == ["kernel"]
    assert block.uncertainty_ns == block.sources[0].root_distance_ns == 20_000_000
    assert abs(block.unix_ns - time.time_ns()) < 1_000_000_000
    # The kernel's bound grows between its daemon's updates: read afresh, never carried.
    kernel.maxerror_ns = 25_000_000
    assert clock.now().uncertainty_ns == 25_000_000
    # Recorded in the entry as any source; the verifiers read it back.
    raw = encode_entry(0, "task.completed", bytes(32), clock.now(), {"task": "t1"}).raw
    assert decode_entry(raw).time.sources[0].server == "kernel"
    ChainChecker().add(raw)


@pytest.mark.parametrize("kernel", [FakeKernel(synced=False), FakeKernel(fails=True)])
def test_an_unsynchronised_or_unreadable_kernel_is_no_source(kernel):
    clock = Clock([], kernel=kernel)
    assert not clock.poll()
    assert clock.now().synced is False
    assert "kernel" in clock.last_errors


def test_the_kernel_losing_sync_makes_the_next_entry_unsynced():
    kernel = FakeKernel()
    clock = Clock([], kernel=kernel)
    assert clock.poll() and clock.now().synced
    kernel.synced = False
    block = clock.now()
    assert block.synced is False and block.uncertainty_ns == UNSYNCED_UNCERTAINTY_NS


def test_the_kernel_beside_ntp_servers_is_cross_checked(responders):
    good = [responders(offset_s=0.0) for _ in range(2)]
    clock = Clock([g.address for g in good], kernel=FakeKernel(maxerror_ms=50))
    assert clock.poll()
    block = clock.now()
    assert block.synced and not block.single_source
    assert {s.server for s in block.sources} == {g.address for g in good} | {"kernel"}
    # Two servers agreeing 5 s away outvote a kernel that believes it is within 1 ms.
    far = [responders(offset_s=5.0) for _ in range(2)]
    clock = Clock([f.address for f in far], kernel=FakeKernel(maxerror_ms=1))
    assert clock.poll()
    assert "kernel" not in {s.server for s in clock.now().sources}


def test_the_kernel_beside_a_real_chronyd(chronyd):
    clock = Clock([chronyd], timeout=0.5, kernel=FakeKernel(maxerror_ms=200))
    assert clock.poll()
    block = clock.now()
    assert block.synced and not block.single_source
    assert {s.server for s in block.sources} == {chronyd, "kernel"}
    # chronyd on loopback is tighter than 200 ms: it is the peer, the kernel cross-checks it.
    assert block.uncertainty_ns < 200_000_000


def test_the_real_kernel_reading_matches_the_adjtimex_tool():
    """Our ctypes struct layout against an independent reader of the same system call."""
    import re
    import shutil
    import subprocess
    import sys

    from ledger.kernel import kernel_reader

    tool = shutil.which("adjtimex") or "/usr/sbin/adjtimex"
    if not sys.platform.startswith("linux") or not shutil.os.path.exists(tool):
        pytest.skip("needs Linux and the adjtimex tool (Debian package adjtimex)")
    read = kernel_reader()
    assert read is not None
    ours = read()
    printed = subprocess.run([tool, "-p"], capture_output=True, text=True, check=True).stdout
    theirs = {k: int(v) for k, v in re.findall(r"^\s*([a-z ]+?):\s+(-?\d+)\s*$", printed, re.M)}
    state = int(re.search(r"return value = (-?\d+)", printed).group(1))
    assert ours.status == theirs["status"] and ours.state == state
    # Between the two readings a synchronised kernel's bound grows by 500 ppm a second.
    assert abs(ours.maxerror_ns // 1000 - theirs["maxerror"]) <= 1000
    assert abs(ours.esterror_ns // 1000 - theirs["esterror"]) <= 1000
    assert ours.synced == (not theirs["status"] & 0x40 and state != 5)
    clock = Clock([], kernel=read)
    assert clock.poll() == ours.synced
    if not ours.synced:
        assert clock.now().synced is False  # said, never hidden


def test_no_reader_where_the_host_has_no_adjtimex(monkeypatch):
    import sys

    from ledger.kernel import kernel_reader

    monkeypatch.setattr(sys, "platform", "darwin")
    assert kernel_reader() is None


def test_the_format_documents_example_follows_the_uncertainty_formula():
    """docs/ledger-format.md §1's example entry: uncertainty = root distance + 15 ppm of age."""
    import re
    from pathlib import Path

    from ledger.clock import DRIFT_PPM

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md").read_text()
    example = doc[doc.index("Example (one line in reality"):doc.index("### Project entries")]
    number = {k: int(re.search(rf'"{k}":(\d+)', example).group(1))
              for k in ("root_distance_ns", "age_ms", "uncertainty_ns")}
    drift = number["age_ms"] * 1_000_000 * DRIFT_PPM // 1_000_000
    assert number["uncertainty_ns"] == number["root_distance_ns"] + drift
    assert '"single_source":true' in example  # one source, as §2 says
