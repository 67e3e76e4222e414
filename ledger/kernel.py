"""The host's clock discipline as a time source: what the kernel knows from chronyd or ntpd.

Where chrony or ntpd disciplines the clock, the kernel keeps whether it is synchronised
(``STA_UNSYNC`` clear) and a bound on its error (``maxerror``, which the daemon sets from its
root distance and the kernel grows by 500 ppm every second until the next update), beside an
estimate (``esterror``). ``adjtimex(2)`` with no mode bits only reads them and needs no
privilege. Read through ctypes, so the ledger gains no dependency; where there is no such call
(not Linux, no libc) the reader is None and the clock uses its NTP servers alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "KERNEL_SOURCE",
    "STA_UNSYNC",
    "TIME_ERROR",
    "KernelTime",
    "kernel_reader",
]

STA_UNSYNC = 0x0040
TIME_ERROR = 5  # adjtimex's answer when the clock is not synchronised
# The kernel caps maxerror at NTP_PHASE_LIMIT (16 s) and calls the clock unsynchronised there.
MAXERROR_LIMIT_NS = 16_000_000_000
# The name an entry's time source carries when its time came from the kernel's discipline.
KERNEL_SOURCE = "kernel"


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """Linux's ``struct timex`` (include/uapi/linux/timex.h), field for field."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),  # microseconds
        ("esterror", ctypes.c_long),  # microseconds
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True)
class KernelTime:
    """One reading of the kernel's clock discipline."""

    state: int  # adjtimex's return value: TIME_OK (0) … TIME_ERROR (5)
    status: int  # STA_* bits
    maxerror_ns: int
    esterror_ns: int

    @property
    def synced(self) -> bool:
        """Whether the kernel calls its clock synchronised, with an error bound it believes."""
        return (
            not self.status & STA_UNSYNC
            and self.state != TIME_ERROR
            and 0 <= self.esterror_ns <= self.maxerror_ns < MAXERROR_LIMIT_NS
        )


def kernel_reader() -> Callable[[], KernelTime] | None:
    """Return a function reading the kernel's discipline, or None where the host has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        adjtimex = libc.adjtimex
    except (OSError, AttributeError):
        return None
    adjtimex.argtypes = [ctypes.POINTER(_Timex)]
    adjtimex.restype = ctypes.c_int

    def read() -> KernelTime:
        timex = _Timex()  # modes 0: read only
        state = adjtimex(ctypes.byref(timex))
        if state < 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"adjtimex: {os.strerror(errno)}")
        return KernelTime(state, timex.status, timex.maxerror * 1000, timex.esterror * 1000)

    return read
