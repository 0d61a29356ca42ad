"""One place for numba flags, the kernel cache location and the thread count.

Kernels are compiled once per machine (``cache=True``) into ``NUMBA_CACHE_DIR``; if the caller
did not set one we pick a writable per-user folder so cached machine code survives restarts.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

if "NUMBA_CACHE_DIR" not in os.environ:  # must be set before numba is imported
    os.environ["NUMBA_CACHE_DIR"] = str(Path.home() / ".cache" / "nexusfin" / "numba")

import numba

# cache: compile once per machine; nogil: several partitions may run on threads;
# error_model numpy: division by zero gives inf/nan instead of raising inside hot loops.
FLAGS = {"cache": True, "nogil": True, "error_model": "numpy"}

njit = partial(numba.njit, **FLAGS)
"""Serial kernel (one account partition per call)."""

pnjit = partial(numba.njit, parallel=True, **FLAGS)
"""Kernel whose outer loop over accounts runs on numba's thread pool (``prange``)."""

prange = numba.prange


def set_threads(n: int | None) -> int:
    """Use ``n`` worker threads for parallel kernels (None: all cores); returns the count in use."""
    limit = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(limit if n is None else max(1, min(int(n), limit)))
    return numba.get_num_threads()
