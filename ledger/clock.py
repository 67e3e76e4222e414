"""NTP time for ledger entries: sampling, validation, selection and an honest uncertainty.

``Clock.poll()`` queries the servers (over the network; the app runs it in a daemon thread
with ``start_background()``), validates every reply, discards falsetickers with Marzullo's
interval intersection (RFC 5905 §11.2.1) and publishes an immutable snapshot. ``Clock.now()``
only reads that snapshot and the local clocks, so an append never waits on the network.

Between samples the time is the selected sample's time plus the *monotonic* time elapsed since
it, so a step of the system clock cannot move entries; ``now()`` compares the two clocks,
reports a step (``last_step_ns``, ``last_errors``) and asks for a fresh poll. Samples older
than ``max_age_s`` (a few missed polls) no longer count: when every server has gone silent,
entries say ``synced: false`` within minutes. With fewer than two agreeing sources, entries
say ``single_source``: nothing cross-checked the one server we believed.

Replies are built and parsed here on a plain UDP socket rather than through ntplib's
``NTPClient``, because the checks need the exact transmit timestamp we sent, which ntplib
does not keep; ntplib's packet constants are used for the wire format.
"""

from __future__ import annotations

import enum
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import ntplib

from .entry import TimeBlock, TimeSource
from .kernel import KERNEL_SOURCE, KernelTime

__all__ = [
    "DEFAULT_MAX_AGE_S",
    "DEFAULT_SERVERS",
    "DRIFT_PPM",
    "MIN_POLL_S",
    "STEP_TOLERANCE_NS",
    "UNSYNCED_UNCERTAINTY_NS",
    "Clock",
    "KissCode",
    "KissOfDeath",
    "ManualClock",
    "NTPError",
    "Sample",
    "Server",
    "query",
    "select_truechimers",
]

DEFAULT_SERVERS = ("0.pool.ntp.org", "1.pool.ntp.org", "2.pool.ntp.org", "3.pool.ntp.org")
NTP_PORT = 123
# RFC 5905's minimum poll interval (2**6 s): pool servers rate-limit faster clients.
MIN_POLL_S = 64
MAX_POLL_S = 65_536
# Worst-case frequency error of an undisciplined quartz clock, as RFC 5905's PHI assumes.
DRIFT_PPM = 15
# Without a valid sync we cannot bound the machine clock's error at all. We still need a
# number: 10 s is far wider than any real NTP sample (which must be under 1 s of root
# distance), so it can never be mistaken for a measurement, yet small enough that an OS clock
# kept by anything at all is usually inside it. "synced": false is the real signal.
UNSYNCED_UNCERTAINTY_NS = 10_000_000_000
# After this long without a fresh valid sample we stop calling ourselves synced: four missed
# polls at the normal interval. (A server that asks us to poll less often than this leaves
# us unsynchronised between its replies unless another server is fresh.)
DEFAULT_MAX_AGE_S = 4 * MIN_POLL_S
# How far the system clock may disagree with the monotonic clock since a sample, beyond twice
# the drift allowance, before we call it a step: scheduling jitter between the two readings.
STEP_TOLERANCE_NS = 50_000_000

_NTP_EPOCH_OFFSET = ntplib.NTP.NTP_DELTA  # seconds from 1900 to 1970
_PACKET = struct.Struct("!BBbbII4sQQQQ")
_NS = 1_000_000_000
# RFC 5905 association modes.
MODE_CLIENT = 3
MODE_SERVER = 4


class NTPError(Exception):
    """A server did not give a usable sample."""


class KissCode(enum.Enum):
    """Kiss-o'-Death codes we act on (RFC 5905 §7.4)."""

    DENY = "DENY"
    RSTR = "RSTR"
    RATE = "RATE"


class KissOfDeath(NTPError):
    """The server told us to go away (DENY, RSTR) or to slow down (RATE)."""

    def __init__(self, code: KissCode):
        super().__init__(f"kiss-o'-death {code.value}")
        self.code = code


@dataclass(frozen=True)
class Server:
    """An NTP server address; port 123 unless given as host:port."""

    host: str
    port: int = NTP_PORT

    @classmethod
    def parse(cls, text: str) -> Server:
        """Parse "host", "host:port", "[v6]" or "[v6]:port"."""
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            return cls(host, int(rest[1:]) if rest.startswith(":") else NTP_PORT)
        if text.count(":") == 1:
            host, port = text.split(":")
            return cls(host, int(port))
        return cls(text)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == NTP_PORT else f"{host}:{self.port}"


@dataclass(frozen=True)
class Sample:
    """One validated NTP exchange, in integer nanoseconds."""

    server: str
    stratum: int
    offset_ns: int
    delay_ns: int
    root_delay_ns: int
    root_dispersion_ns: int
    mono_ns: int
    # The system clock at mono_ns (when the reply arrived): offset_ns is relative to it.
    wall_ns: int = 0

    @property
    def root_distance_ns(self) -> int:
        """Return the sample's bound on our error: δ/2 + root delay/2 + root dispersion."""
        return self.delay_ns // 2 + self.root_delay_ns // 2 + self.root_dispersion_ns

    def distance_at(self, mono_ns: int) -> int:
        """Return the root distance grown by clock drift since the sample was taken."""
        return self.root_distance_ns + max(0, mono_ns - self.mono_ns) * DRIFT_PPM // 1_000_000


def _to_ntp(unix_ns: int) -> int:
    seconds, nanos = divmod(unix_ns, _NS)
    return ((seconds + _NTP_EPOCH_OFFSET) << 32) | ((nanos << 32) // _NS)


def _from_ntp(stamp: int) -> int:
    return ((stamp >> 32) - _NTP_EPOCH_OFFSET) * _NS + (((stamp & 0xFFFFFFFF) * _NS) >> 32)


def _short_ns(value: int) -> int:
    """Convert an NTP short format (16.16 seconds) to nanoseconds."""
    return (value * _NS) >> 16


def query(
    server: Server,
    timeout: float = 1.0,
    max_root_distance_ns: int = _NS,
    max_delay_ns: int = _NS,
    monotonic_ns: Callable[[], int] = time.monotonic_ns,
    wall_ns: Callable[[], int] = time.time_ns,
) -> Sample:
    """Send one NTPv4 client request and return the validated sample.

    :raises KissOfDeath: the server sent a kiss code we act on.
    :raises NTPError: no reply, or a reply that fails any check.
    """
    try:
        infos = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise NTPError(f"{server}: cannot resolve: {exc}") from None
    family, _, _, _, address = infos[0]
    # A random transmit timestamp cannot be guessed by an off-path spoofer, and tells the
    # server nothing about our clock (draft-ietf-ntp-data-minimization).
    sent = int.from_bytes(os.urandom(8), "big")
    request = bytearray(48)
    request[0] = (0 << 6) | (4 << 3) | MODE_CLIENT
    request[40:48] = sent.to_bytes(8, "big")
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            t1 = wall_ns()
            sock.send(bytes(request))
            reply = sock.recv(1024)
            t4 = wall_ns()
            mono = monotonic_ns()
        except OSError as exc:
            raise NTPError(f"{server}: no reply: {exc}") from None
    return _validate(str(server), reply, sent, t1, t4, mono, max_root_distance_ns, max_delay_ns)


def _validate(
    name: str,
    reply: bytes,
    sent: int,
    t1: int,
    t4: int,
    mono: int,
    max_root_distance_ns: int,
    max_delay_ns: int,
) -> Sample:
    if len(reply) < _PACKET.size:
        raise NTPError(f"{name}: reply is {len(reply)} bytes")
    first, stratum, _, _, root_delay, root_disp, ref_id, _, orig, recv, xmit = _PACKET.unpack_from(
        reply
    )
    leap, version, mode = first >> 6, (first >> 3) & 7, first & 7
    if mode != MODE_SERVER:
        raise NTPError(f"{name}: mode {mode} is not server")
    # Check the echo before believing anything else, including a kiss code.
    if orig != sent:
        raise NTPError(f"{name}: origin timestamp does not echo our request")
    if stratum == 0:
        code = ref_id.decode("ascii", "replace")
        if code in KissCode._value2member_map_:
            raise KissOfDeath(KissCode(code))
        raise NTPError(f"{name}: stratum 0 (kiss code {code!r})")
    if not 1 <= stratum <= 15:
        raise NTPError(f"{name}: stratum {stratum} is unsynchronised")
    if leap == 3:
        raise NTPError(f"{name}: leap indicator says the server clock is unsynchronised")
    if version not in (3, 4):
        raise NTPError(f"{name}: version {version}")
    if recv == 0 or xmit == 0:
        raise NTPError(f"{name}: zero timestamps")
    t2, t3 = _from_ntp(recv), _from_ntp(xmit)
    delay = (t4 - t1) - (t3 - t2)
    if not 0 <= delay < max_delay_ns:
        raise NTPError(f"{name}: round-trip delay {delay} ns is out of range")
    offset = ((t2 - t1) + (t3 - t4)) // 2
    sample = Sample(
        name, stratum, offset, delay, _short_ns(root_delay), _short_ns(root_disp), mono, t4
    )
    if (sample.root_delay_ns // 2 + sample.root_dispersion_ns) >= max_root_distance_ns:
        raise NTPError(f"{name}: root distance is over the limit")
    return sample


def select_truechimers(samples: Sequence[Sample], mono_ns: int) -> list[Sample]:
    """Return the samples whose intervals meet the largest majority intersection.

    Marzullo's algorithm as in RFC 5905 §11.2.1: each sample claims the true offset lies in
    [offset − distance, offset + distance]; samples outside the intersection that a majority
    supports are falsetickers. Returns [] when no majority agrees.
    """
    n = len(samples)
    if n == 0:
        return []
    edges = []
    for s in samples:
        d = s.distance_at(mono_ns)
        edges.append((s.offset_ns - d, 0))  # 0 sorts starts before ends at the same point
        edges.append((s.offset_ns + d, 1))
    edges.sort()
    best, count, low, high = 0, 0, 0, 0
    for i, (point, kind) in enumerate(edges):
        if kind == 0:
            count += 1
            if count > best:
                best, low, high = count, point, edges[i + 1][0]
        else:
            count -= 1
    if best * 2 <= n:
        return []
    return [
        s
        for s in samples
        if s.offset_ns - s.distance_at(mono_ns) <= high
        and s.offset_ns + s.distance_at(mono_ns) >= low
    ]


@dataclass(frozen=True)
class _Snapshot:
    """What now() needs, swapped in whole by poll() so readers never see half an update."""

    offset_ns: int
    base_uncertainty_ns: int
    mono_ns: int
    sources: tuple[Sample, ...]
    true_ns: int  # the selected sample's time at mono_ns: its wall clock plus its offset
    # The selected source is the kernel's discipline: now() reads its current bound each time.
    kernel_peer: bool = False


class _Peer:
    """Polling state of one server."""

    __slots__ = ("dropped", "interval", "last", "next_due", "server")

    def __init__(self, server: Server):
        self.server = server
        self.interval = MIN_POLL_S
        self.next_due = 0  # monotonic ns; 0 means poll at once
        self.dropped = False
        self.last: Sample | None = None


class Clock:
    """NTP-disciplined time for ledger entries."""

    def __init__(
        self,
        servers: Iterable[str | Server] = DEFAULT_SERVERS,
        *,
        timeout: float = 1.0,
        max_root_distance_ns: int = _NS,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        wall_ns: Callable[[], int] = time.time_ns,
        kernel: Callable[[], KernelTime] | None = None,
    ):
        self._kernel = kernel
        self.last_kernel: KernelTime | None = None
        self._peers = [_Peer(s if isinstance(s, Server) else Server.parse(s)) for s in servers]
        self.timeout = timeout
        self.max_root_distance_ns = max_root_distance_ns
        self.max_age_ns = int(max_age_s * _NS)
        self._monotonic_ns = monotonic_ns
        self._wall_ns = wall_ns
        self._snapshot: _Snapshot | None = None
        # The last step of the system clock that now() saw (ns, signed), and the snapshot it
        # was seen against, so one step is reported and re-polled once.
        self.last_step_ns: int | None = None
        self._stepped: _Snapshot | None = None
        # (snapshot, millisecond, sources): building TimeSources is most of now()'s cost,
        # and within one millisecond their age_ms cannot change.
        self._sources_cache: tuple = (None, -1, ())
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_errors: dict[str, str] = {}

    @property
    def servers(self) -> list[str]:
        """Return the servers still in use (DENY and RSTR drop a server for good)."""
        return [str(p.server) for p in self._peers if not p.dropped]

    def poll_interval(self, server: str) -> int:
        """Return the current poll interval of a server, in seconds."""
        return next(p.interval for p in self._peers if str(p.server) == server)

    def poll(self) -> bool:
        """Query every server that is due, reselect, and return whether we are synced."""
        with self._poll_lock:
            now = self._monotonic_ns()
            for peer in self._peers:
                if peer.dropped or now < peer.next_due:
                    continue
                self._query(peer)
            self._reselect()
            return self._snapshot is not None

    def _query(self, peer: _Peer) -> None:
        name = str(peer.server)
        try:
            peer.last = query(
                peer.server,
                self.timeout,
                self.max_root_distance_ns,
                monotonic_ns=self._monotonic_ns,
                wall_ns=self._wall_ns,
            )
            self.last_errors.pop(name, None)
        except KissOfDeath as kod:
            self.last_errors[name] = str(kod)
            if kod.code is KissCode.RATE:
                peer.interval = min(peer.interval * 2, MAX_POLL_S)
            else:
                peer.dropped = True
                peer.last = None
        except NTPError as exc:
            self.last_errors[name] = str(exc)
        # Measured after the exchange, so a slow reply cannot shorten the interval.
        peer.next_due = self._monotonic_ns() + peer.interval * _NS

    def _reselect(self) -> None:
        now = self._monotonic_ns()
        fresh = [
            p.last
            for p in self._peers
            if p.last is not None and not p.dropped and now - p.last.mono_ns <= self.max_age_ns
        ]
        kernel = self._kernel_sample()
        if kernel is not None:
            fresh.append(kernel)
        chimers = select_truechimers(fresh, now)
        if not chimers:
            self._snapshot = None
            return
        # The system peer is the truechimer with the tightest bound, as in RFC 5905 §11.2.3.
        best = min(chimers, key=lambda s: s.distance_at(now))
        self._snapshot = _Snapshot(
            best.offset_ns,
            best.root_distance_ns,
            best.mono_ns,
            tuple(chimers),
            best.wall_ns + best.offset_ns,
            best is kernel,
        )

    def _read_kernel(self) -> KernelTime | None:
        """Return the kernel's discipline when it calls the clock synchronised, else None."""
        if self._kernel is None:
            return None
        try:
            reading = self._kernel()
        except OSError as exc:
            self.last_errors[KERNEL_SOURCE] = str(exc)
            return None
        self.last_kernel = reading
        if not reading.synced:
            self.last_errors[KERNEL_SOURCE] = "the kernel's clock is not synchronised"
            return None
        self.last_errors.pop(KERNEL_SOURCE, None)
        return reading

    def _kernel_sample(self) -> Sample | None:
        """Return the kernel's discipline as a sample: the system clock itself (offset 0),
        within maxerror of true time, as the daemon disciplining it says."""
        reading = self._read_kernel()
        if reading is None:
            return None
        return Sample(
            KERNEL_SOURCE, 0, 0, 0, 0, reading.maxerror_ns, self._monotonic_ns(), self._wall_ns()
        )

    def _kernel_now(self, snap: _Snapshot) -> TimeBlock:
        """Return the time from the kernel's discipline, bounded by its maxerror right now.

        The kernel grows maxerror by 500 ppm a second between the daemon's updates, faster
        than the drift allowed to an NTP sample: read afresh, never carried forward.
        """
        reading = self._read_kernel()
        wall = self._wall_ns()
        if reading is None:
            self._wake.set()  # select again without it
            return TimeBlock(wall, UNSYNCED_UNCERTAINTY_NS, False, ())
        mono_ms = self._monotonic_ns() // 1_000_000
        sources = tuple(
            TimeSource(KERNEL_SOURCE, 0, 0, 0, reading.maxerror_ns, 0)
            if s.server == KERNEL_SOURCE
            else TimeSource(
                s.server, s.stratum, s.offset_ns, s.delay_ns, s.root_distance_ns,
                mono_ms - s.mono_ns // 1_000_000,
            )
            for s in snap.sources
        )  # fmt: skip
        return TimeBlock(wall, reading.maxerror_ns, True, sources, len(snap.sources) < 2)

    def now(self) -> TimeBlock:
        """Return the current time block; reads memory only, never the network."""
        snap = self._snapshot
        wall = self._wall_ns()
        if snap is None:
            return TimeBlock(wall, UNSYNCED_UNCERTAINTY_NS, False, ())
        mono = self._monotonic_ns()
        age = mono - snap.mono_ns
        if age > self.max_age_ns:
            return TimeBlock(wall, UNSYNCED_UNCERTAINTY_NS, False, ())
        if snap.kernel_peer:
            return self._kernel_now(snap)
        drift_ns = age * DRIFT_PPM // 1_000_000
        # The sample's time carried forward on the monotonic clock, which never steps.
        unix_ns = snap.true_ns + age
        step = wall + snap.offset_ns - unix_ns
        if abs(step) > 2 * drift_ns + STEP_TOLERANCE_NS and self._stepped is not snap:
            self._report_step(snap, step)
        mono_ms = mono // 1_000_000
        cached = self._sources_cache
        if cached[0] is snap and cached[1] == mono_ms:
            sources = cached[2]
        else:
            sources = tuple(
                TimeSource(
                    s.server,
                    s.stratum,
                    s.offset_ns,
                    s.delay_ns,
                    s.root_distance_ns,
                    mono_ms - s.mono_ns // 1_000_000,
                )
                for s in snap.sources
            )
            self._sources_cache = (snap, mono_ms, sources)
        return TimeBlock(
            unix_ns, snap.base_uncertainty_ns + drift_ns, True, sources, len(snap.sources) < 2
        )

    def _report_step(self, snap: _Snapshot, step_ns: int) -> None:
        """Remember a step of the system clock and have every server polled again soon."""
        self._stepped = snap
        self.last_step_ns = step_ns
        self.last_errors["system clock"] = (
            f"stepped by {step_ns / 1e6:+.1f} ms since the last NTP sample; "
            "time is carried on the monotonic clock until the next poll"
        )
        # A step means the offsets we hold no longer describe this machine's clock; one early
        # query per server, once per step, stays far inside what servers tolerate.
        for peer in self._peers:
            peer.next_due = 0
        self._wake.set()

    def start_background(self) -> threading.Thread:
        """Poll in a daemon thread until stop(); return the thread."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ledger-clock", daemon=True)
        self._thread.start()
        return self._thread

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            due = [p.next_due for p in self._peers if not p.dropped]
            wait = (min(due) - self._monotonic_ns()) / _NS if due else MIN_POLL_S
            # A step seen by now() wakes us early; stop() does too.
            self._wake.wait(max(1.0, wait))
            self._wake.clear()

    def stop(self) -> None:
        """Stop the background thread, if any."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.timeout * len(self._peers) + 1)
            self._thread = None


class ManualClock:
    """A clock that says what it is told, for tests (the ledger's and the app's)."""

    def __init__(
        self,
        unix_ns: int = 1_763_800_000_000_000_000,
        step_ns: int = 1_000,
        uncertainty_ns: int = 5_000_000,
        synced: bool = True,
    ):
        self.unix_ns = unix_ns
        self.step_ns = step_ns
        self.uncertainty_ns = uncertainty_ns
        self.synced = synced

    def now(self) -> TimeBlock:
        """Advance by step_ns and return the time block."""
        self.unix_ns += self.step_ns
        return TimeBlock(self.unix_ns, self.uncertainty_ns, self.synced, ())
