"""A closed tab's session is shut down once its reconnect TTL is over (app_shell.closed_tabs).
The real-server measurement is benchmarks/closed_tab.py; this checks the mechanism on Streamlit's
own session storage with a fake clock."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.session_manager import SessionInfo

from app_shell import closed_tabs


class FakeSession:
    def __init__(self, sid: str):
        self.id = sid
        self.shut = 0
        self.session_state = {"user_data": "the student's table"}

    def shutdown(self):
        self.shut += 1


def storage_with(clock: list[float], ttl: float = 120):
    storage = MemorySessionStorage(ttl_seconds=ttl)
    storage._cache._timer = lambda: clock[0]
    return storage


def test_expired_sessions_are_shut_down_and_live_ones_kept():
    clock = [1000.0]
    storage = storage_with(clock)
    old, recent = FakeSession("old"), FakeSession("recent")
    storage.save(SessionInfo(client=None, session=old))
    clock[0] += 100
    storage.save(SessionInfo(client=None, session=recent))
    runtime = SimpleNamespace(_session_mgr=SimpleNamespace(_session_storage=storage, _storage_lock=threading.Lock()))

    clock[0] += 30  # old: 130 s after its tab closed (past the TTL of 120 s); recent: 30 s
    assert storage.get("old") is None  # Streamlit already reports it absent ...
    assert "old" in storage._cache._expirations  # ... but keeps it (and its state and files)
    assert closed_tabs.expire_and_shut_down(runtime) == 1
    assert old.shut == 1 and recent.shut == 0
    assert old.session_state == {} and recent.session_state  # the closed tab's data emptied
    assert "old" not in storage._cache._expirations and storage.get("recent") is not None
    assert closed_tabs.expire_and_shut_down(runtime) == 0  # nothing twice


def test_another_streamlit_layout_is_left_alone():
    assert closed_tabs.expire_and_shut_down(SimpleNamespace()) == 0


def test_reap_once_without_a_server_does_nothing():
    assert closed_tabs.reap_once() == 0
