"""A memory budget for the caches that all sessions share.

    @budget.shared(max_entries=64)          # instead of @st.cache_resource(max_entries=64, ...)
    def figures(settings, theme): ...

``st.cache_resource`` bounds a cache by its number of entries and a time to live, not by
bytes. ``shared`` keeps Streamlit's cache (one computation per key even when a lecture hall
asks at once, ``max_entries``, ``ttl``) and adds two byte limits, measured once per entry when
the value is computed:

- a value larger than ``entry_bytes()`` (``SHRINKAGE_LAB_CACHE_ENTRY_MB``, default 40 MB: the
  largest legitimate entry, the lab's repeated experiment at 500 groups and R = 200, is 35 MB) is
  returned but not kept: its entry is cleared at once and the next call computes it again;
- all shared caches together keep at most ``budget_bytes()`` (``SHRINKAGE_LAB_CACHE_MB``,
  default 200 MB): past it, the least recently used entries of any shared cache are cleared.

A value's size is its pickled size (numpy buffers counted without copying them), or, for a
value that cannot be pickled, the sizes of its arrays, frames and objects walked one by one.
The bookkeeping mirrors Streamlit's own eviction (``max_entries`` of each function, ``ttl``),
so the total is that of what the caches hold, up to entries Streamlit dropped on its own
(which only make the total larger, so the budget errs on the safe side).
Resources that are not results (a database engine) stay plain ``st.cache_resource``.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import pickle
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

LOG = logging.getLogger("shrinkage_lab")
BUDGET_ENV = "SHRINKAGE_LAB_CACHE_MB"
ENTRY_ENV = "SHRINKAGE_LAB_CACHE_ENTRY_MB"
DEFAULT_BUDGET_MB = 200.0
DEFAULT_ENTRY_MB = 40.0
MB = 1024 * 1024


def _megabytes(env: str, default: float) -> float:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        LOG.warning("%s=%r is not a number of megabytes; using %s", env, raw, default)
        return default
    return max(0.0, value)


def budget_bytes() -> int:
    """What all shared caches together may keep (read from the environment on every call)."""
    return int(_megabytes(BUDGET_ENV, DEFAULT_BUDGET_MB) * MB)


def entry_bytes() -> int:
    """The largest single value a cache keeps (never more than the whole budget)."""
    return min(int(_megabytes(ENTRY_ENV, DEFAULT_ENTRY_MB) * MB), budget_bytes())


# -- measuring --------------------------------------------------------------------------------
class _Counter:
    """A file that only counts what is written to it."""

    def __init__(self) -> None:
        self.n = 0

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        self.n += n
        return n


def size_of(value: Any) -> int:
    """Bytes a value holds, as far as a cache is concerned (see the module's docstring)."""
    counter, buffers = _Counter(), []
    try:
        pickle.Pickler(counter, protocol=5, buffer_callback=buffers.append).dump(value)
    except Exception:  # noqa: BLE001 - locks, open handles, local functions: walk instead
        return _walked_size(value)
    return counter.n + sum(memoryview(b).nbytes for b in buffers)


def _walked_size(value: Any) -> int:
    import numpy as np
    import pandas as pd

    seen: set[int] = set()
    stack, total = [value], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, type(sys), Callable)):  # classes, modules, functions
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes
            continue
        if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
            usage = obj.memory_usage(deep=True)
            total += int(usage.sum() if hasattr(usage, "sum") else usage)
            continue
        total += sys.getsizeof(obj, 64)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif not isinstance(obj, (str, bytes, bytearray, int, float, complex, bool)):
            if hasattr(obj, "__dict__"):
                stack.append(vars(obj))
            for slot in getattr(type(obj), "__slots__", ()):
                if isinstance(slot, str) and hasattr(obj, slot):
                    stack.append(getattr(obj, slot))
    return total


# -- the shared ledger --------------------------------------------------------------------------
@dataclass
class _Record:
    size: int
    at: float
    clear: Callable[[], None]


class Ledger:
    """Sizes of the entries the shared caches hold, least recently used first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: OrderedDict[tuple, _Record] = OrderedDict()
        self._total = 0
        self.refused = 0  # values over the entry limit that were not kept
        self.evicted = 0  # entries cleared to stay within the budget

    @property
    def total(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._records)

    def _drop(self, key: tuple) -> _Record | None:
        record = self._records.pop(key, None)
        if record is not None:
            self._total -= record.size
        return record

    def seen(self, key: tuple, ttl: float | None) -> bool:
        """True if the entry is recorded and still alive (then it becomes the most recent)."""
        with self._lock:
            record = self._records.get(key)
            if record is None:
                return False
            if ttl is not None and time.monotonic() - record.at >= ttl:
                self._drop(key)  # Streamlit computes it again: measure the new value
                return False
            self._records.move_to_end(key)
            return True

    def add(self, key: tuple, size: int, clear: Callable[[], None], max_entries: int | None) -> None:
        """Record a new entry; clear the least recently used entries beyond the budget."""
        victims: list[_Record] = []
        with self._lock:
            if key in self._records:  # another session measured it meanwhile
                self._records.move_to_end(key)
                return
            self._records[key] = _Record(size, time.monotonic(), clear)
            self._total += size
            if max_entries is not None:  # as Streamlit does: this cache's least recently used go
                mine = [k for k in self._records if k[0] == key[0]]
                victims += [self._drop(old) for old in mine[: max(0, len(mine) - max_entries)]]
            budget = budget_bytes()
            while self._total > budget and self._records:
                victims.append(self._drop(next(iter(self._records))))
            self.evicted += len(victims)
        victims = [v for v in victims if v is not None]
        for victim in victims:
            victim.clear()
        if victims:
            LOG.info("Shared caches over their budget of %.0f MB: %d entries cleared", budget / MB, len(victims))

    def forget_function(self, name: str) -> None:
        with self._lock:
            for key in [k for k in self._records if k[0] == name]:
                self._drop(key)

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._total = 0
            self.refused = self.evicted = 0


LEDGER = Ledger()


def total_bytes() -> int:
    """Bytes the shared caches hold now (as measured when each entry was computed)."""
    return LEDGER.total


def _identity(value: Any) -> Any:
    """A hashable stand-in for an argument (the arguments are normally hashable already)."""
    try:
        hash(value)
        return value
    except TypeError:
        return ("unhashable", type(value).__qualname__, repr(value))


def shared(max_entries: int | None = None, ttl: float | None = None, hash_funcs: dict | None = None):
    """``st.cache_resource(max_entries=…, ttl=…, hash_funcs=…)`` within the byte limits of this module.
    As with Streamlit, arguments whose names start with ``_`` are not part of the key."""

    def decorate(fn):
        cached = st.cache_resource(max_entries=max_entries, ttl=ttl, show_spinner=False, hash_funcs=hash_funcs)(fn)
        signature = inspect.signature(fn)
        # page scripts all run as __main__: the file tells walkthrough.facts from teach.facts
        name = f"{getattr(getattr(fn, '__code__', None), 'co_filename', fn.__module__)}:{fn.__qualname__}"
        names = list(signature.parameters)

        @functools.wraps(fn)
        def run(*args, **kwargs):
            value = cached(*args, **kwargs)
            # the same call shape as the original, without what Streamlit does not hash
            clear_args = tuple(None if i < len(names) and names[i].startswith("_") else a
                               for i, a in enumerate(args))
            clear_kwargs = {k: (None if k.startswith("_") else v) for k, v in kwargs.items()}
            # Streamlit's key: (name, value) of each argument in call order, "_" names left out
            pairs = [(names[i] if i < len(names) else None, a) for i, a in enumerate(args)] + list(kwargs.items())
            key = (name, tuple((n, _identity(v)) for n, v in pairs if not (n or "").startswith("_")))
            if LEDGER.seen(key, ttl):
                return value
            size = size_of(value)

            def clear_one() -> None:
                cached.clear(*clear_args, **clear_kwargs)

            if size > entry_bytes():
                clear_one()
                LEDGER.refused += 1
                LOG.info("%s: a value of %.1f MB is over the cache's entry limit of %.1f MB; not kept",
                         name, size / MB, entry_bytes() / MB)
                return value
            LEDGER.add(key, size, clear_one, max_entries)
            return value

        def clear_all() -> None:
            cached.clear()
            LEDGER.forget_function(name)

        run.clear = clear_all
        run.cached = cached
        return run

    return decorate


class SharedDict:
    """A dict of results shared by all sessions, within the same budget, for a result that cannot
    be computed inside ``st.cache_resource`` (e.g. one that draws a progress bar while it runs):

        store = budget.shared_dict("lab.repeated", max_entries=32)
        value = store.get(key)
        if value is None:
            value = store.put(key, compute())
    """

    def __init__(self, name: str, max_entries: int | None = None) -> None:
        self.name, self.max_entries = name, max_entries
        self._values: dict = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key, default=None):
        with self._lock:
            if key not in self._values:
                return default
            value = self._values[key]
        LEDGER.seen((self.name, _identity(key)), None)
        return value

    def put(self, key, value):
        """Keep ``value`` (unless it is over the entry limit); returns it."""
        size = size_of(value)
        if size > entry_bytes():
            LEDGER.refused += 1
            LOG.info("%s: a value of %.1f MB is over the cache's entry limit of %.1f MB; not kept",
                     self.name, size / MB, entry_bytes() / MB)
            return value
        with self._lock:
            self._values[key] = value

        def clear_one() -> None:
            with self._lock:
                self._values.pop(key, None)

        LEDGER.add((self.name, _identity(key)), size, clear_one, self.max_entries)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
        LEDGER.forget_function(self.name)


_DICTS: dict[str, SharedDict] = {}
_DICTS_LOCK = threading.Lock()


def shared_dict(name: str, max_entries: int | None = None) -> SharedDict:
    """The process's one ``SharedDict`` of this name (pages run again on every rerun: the dict stays)."""
    with _DICTS_LOCK:
        if name not in _DICTS:
            _DICTS[name] = SharedDict(name, max_entries)
        return _DICTS[name]
