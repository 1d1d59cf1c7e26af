"""The byte budget of the shared caches (app_shell.budget) and of a session's own results."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_shell import budget

MB = budget.MB


@pytest.fixture
def small_budget(monkeypatch):
    """A 3 MB budget with a 1.5 MB entry limit; an empty ledger before and after."""
    monkeypatch.setenv(budget.BUDGET_ENV, "3")
    monkeypatch.setenv(budget.ENTRY_ENV, "1.5")
    budget.LEDGER.reset()
    yield
    budget.LEDGER.reset()


def counting(megabytes: float, tag: str, **options):
    """A shared cache of arrays of ``megabytes`` (per key), counting how often it computes.
    (Streamlit knows a cached function by its code: ``tag`` keeps two of them apart.)"""
    calls: list[int] = []

    def block(tag: str, k: int, _ignored=None):
        calls.append(k)
        return np.full(int(megabytes * MB) // 8, float(k))

    cached = budget.shared(**options)(block)
    return (lambda k, **kw: cached(tag, k, **kw)), calls


def test_size_is_the_bytes_held():
    array = np.zeros(MB // 8)
    assert MB <= budget.size_of(array) < MB + 1000
    assert MB <= budget.size_of({"a": array, "b": [1, 2, 3]}) < MB + 1000

    class Handle:  # cannot be pickled (a lock): its arrays are walked instead
        def __init__(self):
            self.lock = threading.Lock()
            self.values = np.zeros(2 * MB // 8)

    assert 2 * MB <= budget.size_of(Handle()) < 2 * MB + 10_000


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(budget.BUDGET_ENV, raising=False)
    monkeypatch.delenv(budget.ENTRY_ENV, raising=False)
    assert budget.budget_bytes() == 200 * MB and budget.entry_bytes() == 40 * MB
    monkeypatch.setenv(budget.BUDGET_ENV, "10")
    monkeypatch.setenv(budget.ENTRY_ENV, "50")  # never more than the whole budget
    assert budget.budget_bytes() == budget.entry_bytes() == 10 * MB
    monkeypatch.setenv(budget.BUDGET_ENV, "lots")
    assert budget.budget_bytes() == 200 * MB


def test_a_result_over_the_entry_limit_is_computed_but_not_kept(small_budget):
    big, calls = counting(2, 'big')
    assert big(1)[0] == 1.0 and big(1)[0] == 1.0
    assert calls == [1, 1]  # computed on every call
    assert budget.total_bytes() == 0 and budget.LEDGER.refused == 2
    small, small_calls = counting(0.5, 'small')
    small(1), small(1)
    assert small_calls == [1]  # a small one is kept as before
    assert 0.5 * MB <= budget.total_bytes() < 0.6 * MB


def test_the_shared_caches_stay_within_the_budget(small_budget):
    first, first_calls = counting(0.99, 'first')
    second, second_calls = counting(0.99, 'second')
    for k in range(4):
        first(k)
        second(k, _ignored=object())  # underscored arguments are not part of the key
        assert budget.total_bytes() <= budget.budget_bytes()
    assert len(budget.LEDGER) == 3 and budget.LEDGER.evicted == 5
    # the three most recent entries are still cached; the older ones were cleared
    first(3), second(3), second(2)
    assert first_calls == [0, 1, 2, 3] and second_calls == [0, 1, 2, 3]
    first(0)  # cleared long ago: computed again, and the least recently used goes
    assert first_calls[-1] == 0 and budget.total_bytes() <= budget.budget_bytes()
    second(2)  # used a moment ago: still there
    assert second_calls == [0, 1, 2, 3]


def test_max_entries_is_mirrored_so_the_total_is_what_streamlit_holds(small_budget):
    few, calls = counting(0.1, 'few', max_entries=2)
    for k in range(5):
        few(k)
    assert len(budget.LEDGER) == 2 and 0.2 * MB <= budget.total_bytes() < 0.25 * MB


def test_clear_empties_the_cache_and_its_ledger(small_budget):
    calls = []

    @budget.shared()
    def halves(k: int):
        calls.append(k)
        return np.zeros(MB // 16)

    halves(1), halves(2)
    assert len(budget.LEDGER) == 2
    halves.clear()
    assert budget.total_bytes() == 0
    halves(1)
    assert calls == [1, 2, 1]


PRIVATE_SCRIPT = """
import numpy as np
import streamlit as st
from app_shell import compute

calls = st.session_state.setdefault("calls", [])

@compute.cached()
def block(key, megabytes: float):
    calls.append(megabytes)
    return np.zeros(int(megabytes * 1024 * 1024) // 8)

own = compute.DataKey("Your data: a.csv", "digest", ("y",), ("y", "g", "x"))
for mb in st.session_state.get("ask", []):
    block(own, mb)
st.write(f"{compute.private_entries()} {compute.private_total()}")
"""


def test_a_session_keeps_its_own_results_within_its_budget(monkeypatch):
    monkeypatch.setenv(budget.ENTRY_ENV, "2")
    monkeypatch.setenv("SHRINKAGE_LAB_SESSION_CACHE_MB", "3")
    at = AppTest.from_string(PRIVATE_SCRIPT)
    at.session_state["ask"] = [2.5, 2.5]  # over the entry limit: computed each time, never kept
    at.run()
    assert at.session_state["calls"] == [2.5, 2.5]
    assert at.markdown[0].value.startswith("0 0")
    at.session_state["ask"] = [1.0, 1.1, 1.2, 1.3, 1.3]  # 3 MB hold two of them: the oldest go
    at.run()
    assert at.session_state["calls"][2:] == [1.0, 1.1, 1.2, 1.3]
    entries, total = map(int, at.markdown[0].value.split()[:2])
    assert entries == 2 and total <= 3 * MB


def test_a_shared_dict_is_within_the_same_budget(small_budget):
    store = budget.shared_dict("test.store", max_entries=2)
    assert budget.shared_dict("test.store") is store  # one per process, whatever page asks
    store.clear()
    big = store.put("big", np.zeros(2 * MB // 8))
    assert big.nbytes == 2 * MB and store.get("big") is None  # over the entry limit: not kept
    for k in range(3):
        store.put(k, np.zeros(MB // 16))
    assert store.get(0) is None and store.get(1) is not None and len(store) == 2  # max_entries
    other, _calls = counting(0.99, "beside the store")
    for k in range(3):
        other(k)
        assert budget.total_bytes() <= budget.budget_bytes()
    assert len(store) < 2  # the store's least recently used went to make room
    store.clear()
