"""How long ago this process started (from /proc where there is one), for start-up timings."""

from __future__ import annotations

import os
import time

_IMPORTED_AT = time.time()


def process_start_time() -> float:
    """The process's start as a ``time.time()`` value (this module's import time elsewhere).

    /proc/uptime and the start tick in /proc/self/stat are both counted from boot, to 10 ms."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5); two fields precede the split
        with open("/proc/uptime", encoding="ascii") as uptime:
            since_boot = float(uptime.read().split()[0])
        return time.time() - (since_boot - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return _IMPORTED_AT


def seconds_since_start() -> float:
    return time.time() - process_start_time()
