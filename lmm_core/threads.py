"""Keep BLAS single-threaded: the engine's work is many tiny matrix operations.

With OpenBLAS's default thread pool, a 3 × 3 product or an L-BFGS-B step can take
milliseconds instead of microseconds once the machine is busy (threads wake, spin and
wait for each other): measured here, a sleepstudy fit went from 5 ms to over 40 ms on a
loaded 2-core machine. Setting the environment variables only helps if it happens
before numpy loads BLAS, which a Streamlit server has long done; so the thread count
is also set through the loaded OpenBLAS libraries themselves. Set
LMM_CORE_BLAS_THREADS to another number to override.
"""
from __future__ import annotations

import ctypes
import os
import re

_SETTERS = (
    "openblas_set_num_threads", "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
)


def _loaded_openblas() -> list[str]:
    try:
        with open("/proc/self/maps") as maps:
            return sorted(set(re.findall(r"(/\S*openblas\S*\.(?:so|dylib)\S*)", maps.read())))
    except OSError:  # not Linux: the environment variables below are all we can do
        return []


def limit_blas_threads(n: int | None = None) -> int:
    """Set the thread count of every loaded OpenBLAS; returns how many libraries were set."""
    n = int(n if n is not None else os.environ.get("LMM_CORE_BLAS_THREADS", 1))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    done = 0
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(n)
                done += 1
                break
    return done
