"""Every cached computation of the app, with keys that are the whole input.

    key = compute.data_key(choice)          # what the data are: name, content, roles, columns

    @compute.cached(max_entries=32)
    def curve(key: compute.DataKey, model: tuple, upto: float, *, _fit):
        return anatomy.criterion_curve(_fit, upto=upto)

A cached function takes a ``DataKey`` first; every other argument without a leading
underscore is part of the key as well, and underscored arguments (frames, fits) must be
determined by the key. ``model_key(model)`` gives a model's part of a key (the formula's
spacing normalised).

Where results live:

- the built-in data sets: one cache shared by all sessions (``budget.shared``, i.e.
  ``st.cache_resource`` bounded by ``max_entries``, a time to live ``TTL`` and the byte budget of
  ``app_shell.budget``);
- a student's own data: a small cache in *that session's* state (``PRIVATE_ENTRIES`` entries and
  ``private_bytes()`` bytes at most, least recently used dropped first; a value over
  ``budget.entry_bytes()`` is not kept). Nothing computed from uploaded data is in a shared
  cache, so no other session can be served it; "Forget my data" empties it (``forget``) and it
  goes when the session ends.
"""
from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from typing import NamedTuple

import streamlit as st

from lmm_core import normalize_formula

from . import budget

TTL = 6 * 3600  # seconds a shared entry lives after it was computed (then it is computed again if needed)
PRIVATE = "_private_results"  # session_state: this session's results on its own data
PRIVATE_ENTRIES = 24
PRIVATE_ENV = "SHRINKAGE_LAB_SESSION_CACHE_MB"  # bytes of results one session keeps on its own data
DEFAULT_PRIVATE_MB = 50.0


def private_bytes() -> int:
    return int(budget._megabytes(PRIVATE_ENV, DEFAULT_PRIVATE_MB) * budget.MB)


class DataKey(NamedTuple):
    """The identity of a data set as a cache sees it. For built-in data the name says it all;
    for uploaded data the content hash, the column names and the chosen roles."""

    name: str
    digest: str = ""  # content hash of an upload ("" for a built-in data set)
    columns: tuple = ()
    roles: tuple = ()  # (response, group, covariate)

    @property
    def private(self) -> bool:
        return bool(self.digest)


def builtin_key(name: str) -> DataKey:
    return DataKey(name)


def data_key(choice) -> DataKey:
    """The key of the data set a ``ui.Choice`` selects."""
    from . import ui

    user = ui.user_data()
    if user is not None and choice.data.name == user.name:
        info = user.info
        return DataKey(info.name, user.digest, tuple(map(str, user.table.frame.columns)),
                       (info.response, info.group, info.covariate))
    return DataKey(choice.data.name)


def model_key(model) -> tuple:
    """A model's part of a key: its key, formula (spacing normalised) and kind of random effects."""
    return (model.key, normalize_formula(model.formula), model.random)


def formula_key(formula: str) -> str:
    return normalize_formula(formula)


def _private_store() -> OrderedDict:
    store = st.session_state.get(PRIVATE)
    if not isinstance(store, OrderedDict):
        store = OrderedDict()
        st.session_state[PRIVATE] = store
    return store


def forget() -> None:
    """Drop every result computed from this session's own data."""
    st.session_state.pop(PRIVATE, None)


def private_entries() -> int:
    store = st.session_state.get(PRIVATE)
    return len(store) if isinstance(store, OrderedDict) else 0


def private_total() -> int:
    """Bytes of this session's own results (as measured when each was computed)."""
    store = st.session_state.get(PRIVATE)
    return sum(size for _value, size in store.values()) if isinstance(store, OrderedDict) else 0


def cached(max_entries: int = 32, ttl: float = TTL):
    """Cache a function whose first argument is a ``DataKey`` (see the module's docstring)."""

    def decorate(fn):
        shared = budget.shared(max_entries=max_entries, ttl=ttl)(fn)
        signature = inspect.signature(fn)
        # page scripts all run as __main__: the file keeps two pages' functions of one name apart
        name = f"{getattr(getattr(fn, '__code__', None), 'co_filename', fn.__module__)}:{fn.__qualname__}"

        @functools.wraps(fn)
        def run(key: DataKey, *args, **kwargs):
            if not isinstance(key, DataKey):
                raise TypeError(f"{name}: the first argument must be a compute.DataKey")
            if not key.private:
                return shared(key, *args, **kwargs)
            bound = signature.bind(key, *args, **kwargs)
            bound.apply_defaults()
            entry = (name,) + tuple((k, v) for k, v in bound.arguments.items() if not k.startswith("_"))
            store = _private_store()
            if entry in store:
                store.move_to_end(entry)
                return store[entry][0]
            value = fn(key, *args, **kwargs)
            size = budget.size_of(value)
            if size > min(budget.entry_bytes(), private_bytes()):
                return value  # too large to keep: computed again when asked for again
            store[entry] = (value, size)
            total = sum(s for _v, s in store.values())
            while len(store) > PRIVATE_ENTRIES or total > private_bytes():
                total -= store.popitem(last=False)[1][1]
            return value

        run.clear = shared.clear
        return run

    return decorate
