"""A closed tab's session, and the uploaded data in it, leave the server soon after its TTL.

When a tab closes, Streamlit keeps its session for ``server.disconnectedSessionTTL`` seconds
(.streamlit/config.toml: 120) so that a tab that only lost its connection for a moment gets it
back. Streamlit 1.67 keeps such sessions in a TTL cache that drops expired entries only when
another session is written to it (the next tab that disconnects), and drops them *without
shutting them down*: the session's uploaded files stay in the uploaded-file manager, and its
state (the student's table, their results) lives on until the garbage collector finds the
cycle (measured with benchmarks/closed_tab.py: an idle server kept a closed tab's upload for
good; see README "Limits and safety").

``install()`` starts one daemon thread per process that every ``REAP_SECONDS`` (30;
``SHRINKAGE_LAB_REAP_SECONDS``) asks the server's event loop to take the expired sessions out
of that cache and shut each down as Streamlit shuts down a session whose tab it closes itself
(uploaded files removed, caches cleared), empties its session state (the server's main loop
keeps a reference to the last session it served until it serves another, measured), then runs
the garbage collector once if it removed any. A session past its TTL cannot be resumed anyway (the cache reports it absent), so nothing a
student could still reach is removed. This reaches into Streamlit's session manager
(``_session_mgr._session_storage._cache`` and its ``_storage_lock``; Streamlit 1.67); with
another layout it logs once and does nothing.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading

LOG = logging.getLogger("shrinkage_lab")
REAP_ENV = "SHRINKAGE_LAB_REAP_SECONDS"
DEFAULT_REAP_SECONDS = 30.0
_STARTED = threading.Event()
_START_LOCK = threading.Lock()
_WARNED = threading.Event()


def reap_seconds() -> float:
    try:
        return max(0.5, float(os.environ.get(REAP_ENV, "") or DEFAULT_REAP_SECONDS))
    except ValueError:
        return DEFAULT_REAP_SECONDS


def _storage(runtime):
    mgr = getattr(runtime, "_session_mgr", None)
    cache = getattr(getattr(mgr, "_session_storage", None), "_cache", None)
    lock = getattr(mgr, "_storage_lock", None)
    if cache is None or lock is None or not hasattr(cache, "expire"):
        return None, None
    return cache, lock


def expire_and_shut_down(runtime) -> int:
    """On the event loop: remove the expired stored sessions and shut each down. How many."""
    cache, lock = _storage(runtime)
    if cache is None:
        if not _WARNED.is_set():
            _WARNED.set()
            LOG.warning("Closed tabs: Streamlit's session storage is not where app_shell.closed_tabs looks; "
                        "closed tabs' sessions end when Streamlit drops them")
        return 0
    with lock:
        removed = cache.expire()
    for _key, info in removed:
        session = getattr(info, "session", None)
        try:
            if session is not None:
                session.shutdown()
                # The server's main loop may still hold the last session it served (a loop
                # variable), so the state is emptied too: the student's data go even then.
                state = getattr(session, "session_state", None)
                if state is not None and hasattr(state, "clear"):
                    state.clear()
        except Exception:  # noqa: BLE001 - one bad session must not stop the others
            LOG.exception("Shutting down an expired session failed")
    return len(removed)


def reap_once(timeout_s: float = 10.0) -> int:
    """From any thread: expire and shut down on the server's event loop, then collect garbage."""
    from streamlit import runtime as st_runtime

    if not st_runtime.exists():
        return 0
    runtime = st_runtime.get_instance()
    try:
        loop = runtime._get_async_objs().eventloop
    except Exception:  # noqa: BLE001 - not started yet, or stopped
        return 0
    if loop.is_closed():
        return 0

    async def on_loop() -> int:
        return expire_and_shut_down(runtime)

    removed = asyncio.run_coroutine_threadsafe(on_loop(), loop).result(timeout_s)
    if removed:
        gc.collect()  # a session's state is held in reference cycles: free it now, not some day
        LOG.info("Closed tabs: %d expired session(s) shut down and their data freed", removed)
    return removed


def _loop() -> None:
    while True:
        _STARTED.wait()
        threading.Event().wait(reap_seconds())
        try:
            reap_once()
        except Exception:  # noqa: BLE001 - keep reaping; say it once per failure
            LOG.exception("Reaping closed tabs' sessions failed")


def install() -> bool:
    """Start the reaper once per process; True when it runs (False with another Streamlit layout)."""
    try:
        from streamlit.runtime.memory_session_storage import MemorySessionStorage  # noqa: F401
        from streamlit.runtime.websocket_session_manager import WebsocketSessionManager  # noqa: F401
    except ImportError:  # pragma: no cover
        LOG.warning("Closed tabs: this Streamlit has no session storage to reap; sessions end as it decides")
        return False
    with _START_LOCK:
        if not _STARTED.is_set():
            threading.Thread(target=_loop, name="shrinkage-lab-closed-tabs", daemon=True).start()
            _STARTED.set()
    return True
