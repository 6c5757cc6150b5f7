"""Logs the cyclic garbage collector's pauses of the processes bench/order_latency.py starts.

On PYTHONPATH only for those processes, and active only with TRADESIM_BENCH_GC_LOG set (a
folder): each collection of 1 ms or more appends "<epoch s> <generation> <pause ms>" to
gc-<pid>.log there. A pause stops the process's event loop, so it lands in the latency of every
order in flight through that process.
"""

from __future__ import annotations

import gc
import os
import time

_folder = os.environ.get("TRADESIM_BENCH_GC_LOG")
if _folder:
    _log = open(os.path.join(_folder, f"gc-{os.getpid()}.log"), "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    _started = [0.0]

    def _timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        pause_ms = (time.perf_counter() - _started[0]) * 1000
        if pause_ms >= 1.0:
            _log.write(f"{time.time():.3f} {info['generation']} {pause_ms:.1f}\n")

    gc.callbacks.append(_timed)
