"""How long a closed tab's session, and the uploaded data in its state, stay in the server.

    python benchmarks/closed_tab.py                       # the TTL of .streamlit/config.toml
    python benchmarks/closed_tab.py --ttl 20 --wait 90    # a short TTL, to see the mechanism

A real server (``python -m app_shell.serve``) with a probe thread inside it that writes, every
second, the server's memory, its connected sessions, the disconnected sessions Streamlit keeps
for a reconnect, and how many uploaded data sets (``datasets.upload.UserData``) are still alive.
Chromium opens "Your model", uploads a CSV, uses it, opens "Three ways to pool" and closes the tab;
the script then watches the probe. If the data are still there after ``--wait`` seconds, a second
tab opens and closes (another session's disconnect), and the script watches again.
Prints a timeline; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# -- inside the server ---------------------------------------------------------------------------
def _probe(path: Path, collect_every: int) -> None:
    import gc

    from datasets.upload import UserData
    from streamlit.runtime import Runtime

    start = time.monotonic()
    while True:
        time.sleep(1.0)
        if not Runtime.exists():
            continue
        mgr = Runtime.instance()._session_mgr
        storage = getattr(getattr(mgr, "_session_storage", None), "_cache", None)
        # read without reaping: len() or a write would expire entries and change what is measured
        expirations = dict(getattr(storage, "_expirations", {}) or {})
        now = time.monotonic()
        alive = sum(isinstance(o, UserData) for o in gc.get_objects())
        referenced = None
        if collect_every and int(now - start) % collect_every == 0:
            gc.collect()  # what is left is still referenced, not garbage waiting for the collector
            kept = [o for o in gc.get_objects() if isinstance(o, UserData)]
            referenced = len(kept)
            if kept and mgr.num_active_sessions() == 0:
                holders = [type(r).__name__ + (f" {sorted(r)[:8]}" if isinstance(r, dict) else "")
                           for r in gc.get_referrers(kept[0]) if r is not kept]
                with path.with_suffix(".holders").open("a") as out:
                    out.write(f"{now - start:.0f} s: {holders}\n")
            del kept
        rss = 0.0
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
        files = getattr(Runtime.instance().uploaded_file_mgr, "file_storage", {}) or {}
        file_bytes = sum(len(getattr(rec, "data", b"")) for by_id in list(files.values()) for rec in list(by_id.values()))
        main = sys.modules.get("__main__")
        # the namespace of the last page run stays sys.modules["__main__"] until the next run
        in_last_run = sum(isinstance(v, UserData) for v in list(vars(main).values())) if main else 0
        if os.environ.get("CLOSED_TAB_HOLDERS") and alive and mgr.num_active_sessions() == 0 and not expirations:
            _holders(path, UserData)
        record = {"in_last_run_globals": in_last_run, "files_kb": round(file_bytes / 1024), "t": round(now - start, 1), "rss_mb": round(rss, 1), "active": mgr.num_active_sessions(),
                  "stored": len(expirations), "stored_expired": sum(e <= now for e in expirations.values()),
                  "uploads_alive": alive, "uploads_referenced": referenced}
        with path.open("a") as out:
            out.write(json.dumps(record) + "\n")


def _holders(path: Path, kind: type) -> None:
    """Debugging: the chains of referrers from a live object of ``kind`` up to a module or a thread."""
    import gc
    import types

    gc.collect()
    targets = [o for o in gc.get_objects() if isinstance(o, kind)]
    if not targets:
        return
    lines, frame = [], sys._getframe()
    chain, seen = [targets[0]], {id(targets), id(frame)}
    for _depth in range(12):
        current = chain[-1]
        raw = gc.get_referrers(current)
        seen.add(id(raw))
        refs = [r for r in raw if id(r) not in seen and r is not chain and not isinstance(r, types.FrameType)]
        seen.add(id(refs))
        del raw
        if not refs:
            break
        nxt = refs[0]
        seen.add(id(nxt))
        desc = type(nxt).__name__
        if isinstance(nxt, dict):
            desc += " keys " + ", ".join(map(str, list(nxt)[:6]))
        elif isinstance(nxt, types.ModuleType):
            desc += " " + nxt.__name__
        elif isinstance(nxt, (list, tuple)):
            desc += f" of {len(nxt)}: " + ", ".join(type(x).__name__ for x in list(nxt)[:4])
        elif hasattr(nxt, "__dict__"):
            desc += f" ({type(nxt).__module__})"
        lines.append(f"{desc} ({len(refs)} referrers)")
        chain.append(nxt)
        if isinstance(nxt, (types.ModuleType,)):
            break
    del chain, targets
    with path.with_suffix(".chain").open("a") as out:
        out.write(" <- ".join(lines) + "\n")


def serve(probe_path: Path, argv: list[str]) -> int:
    import datasets.upload  # noqa: F401 - imported here, not half-way in two threads at once
    import streamlit.runtime  # noqa: F401

    collect = int(os.environ.get("CLOSED_TAB_COLLECT", "0"))
    threading.Thread(target=_probe, args=(probe_path, collect), daemon=True).start()
    from app_shell import serve as launcher

    return launcher.main(argv)


# -- the driver ----------------------------------------------------------------------------------
def last(probe_path: Path) -> dict:
    try:
        lines = probe_path.read_text().strip().splitlines()
        return json.loads(lines[-1]) if lines else {}
    except (OSError, ValueError):
        return {}


def watch(probe_path: Path, seconds: float, label: str, t0: float) -> dict | None:
    """Print the probe's changes until the uploads are freed (returned) or ``seconds`` pass."""
    deadline, shown = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        rec = last(probe_path)
        if rec.get("uploads_referenced") is not None:
            rec = {**rec, "uploads_alive": rec["uploads_referenced"]}
        state = (rec.get("active"), rec.get("stored"), rec.get("stored_expired"), rec.get("uploads_alive"),
                 rec.get("files_kb"), rec.get("in_last_run_globals"))
        if rec and state != shown:
            shown = state
            print(f"  {label}: +{time.monotonic() - t0:6.1f} s  connected {state[0]}, kept for reconnect "
                  f"{state[1]} ({state[2]} past their TTL), uploads alive {state[3]} ({state[5]} in the last page run's "
                  f"globals), uploaded files {state[4]} kB, "
                  f"server {rec['rss_mb']} MB")
        if rec and rec.get("uploads_alive") == 0 and rec.get("files_kb") == 0:
            return {**rec, "after_close_s": round(time.monotonic() - t0, 1)}
        time.sleep(0.5)
    return None


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("score,week,pupil\n")
        for i in range(rows):
            p, w = divmod(i, 10)
            out.write(f"{10 + (p % 97) * 0.1 + 0.5 * w + (p * w) % 7 * 0.3:.3f},{w},pupil-{p:05d}\n")
    return path


class ProbedServer:
    """The app served by ``app_shell.serve`` with the probe inside (a context manager)."""

    def __init__(self, work: Path, ttl: int | None = None, collect: int = 0, env: dict | None = None):
        from benchmarks import browser_kit as kit

        self.work, self.probe_path = work, work / "probe.jsonl"
        self.port = kit.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, __file__, "--serve", "--server.port", str(self.port), "--server.address",
                   "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        if ttl is not None:
            command += ["--server.disconnectedSessionTTL", str(ttl)]
        self._command = command
        self._env = {**os.environ, **(env or {}), "CLOSED_TAB_PROBE": str(self.probe_path),
                     "CLOSED_TAB_COLLECT": str(collect)}
        self.process = None

    def __enter__(self) -> "ProbedServer":
        from benchmarks import browser_kit as kit

        with open(self.work / "streamlit.log", "wb") as log:
            self.process = subprocess.Popen(self._command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True, env=self._env)
        kit.StreamlitServer(port=self.port).wait_healthy(90)  # only its health check
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(10)

    def last(self) -> dict:
        return last(self.probe_path)


def upload_and_use(page, url: str, csv: Path) -> None:
    """Open "Your model", upload ``csv``, use its columns, open "Three ways to pool"."""
    from benchmarks import browser_kit as kit

    kit.open_app(page, f"{url}/your-model")
    kit.upload_csv(page, csv)
    kit.wait_for_run(page, kit.runs(page) - 1)  # the rerun that selects the data is over
    page.locator("[data-testid=stSidebarNavLink]", has_text="Three ways to pool").click()
    # Wait for the page itself rather than for one more counted run: the click can fall into the
    # rerun that selects the uploaded data, and then no separate run is counted (seen once in CI).
    page.locator("h1", has_text="Three ways to pool").first.wait_for()
    kit.wait_for_figures(page)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ttl", type=int, default=None, help="server.disconnectedSessionTTL (default: the config's)")
    ap.add_argument("--wait", type=float, default=None, help="seconds to watch after closing (default TTL + 60)")
    ap.add_argument("--rows", type=int, default=60_000, help="rows of the uploaded CSV")
    ap.add_argument("--collect", type=int, default=0,
                    help="every N s the probe runs gc.collect() and reports what is still referenced (0: never)")
    ap.add_argument("--serve", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        return serve(Path(os.environ["CLOSED_TAB_PROBE"]), args.serve)

    from playwright.sync_api import sync_playwright

    from benchmarks import browser_kit as kit

    work = Path(tempfile.mkdtemp(prefix="closed-tab-"))
    csv = write_csv(work / "pupils.csv", args.rows)
    ttl = args.ttl
    if ttl is None:
        import tomllib

        ttl = tomllib.loads((ROOT / ".streamlit/config.toml").read_text()).get("server", {}).get(
            "disconnectedSessionTTL", 120)
    wait = args.wait if args.wait is not None else ttl + 60
    with ProbedServer(work, args.ttl, args.collect) as server:
        probe_path, url = server.probe_path, server.url
        print(f"{kit.machine()}\nserver.disconnectedSessionTTL = {ttl} s; upload: {args.rows:,} rows "
              f"({csv.stat().st_size / 1e6:.1f} MB)")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**kit.launch_options())
            context = browser.new_context(viewport=kit.VIEWPORT)
            kit.prepare_context(context)
            page = context.new_page()
            page.set_default_timeout(kit.RUN_TIMEOUT_MS)
            before = last(probe_path)
            upload_and_use(page, url, csv)
            time.sleep(2.5)
            loaded = last(probe_path)
            print(f"before the upload: server {before.get('rss_mb')} MB; with the data used on two pages: "
                  f"{loaded.get('rss_mb')} MB, uploads alive {loaded.get('uploads_alive')}")
            context.close()  # the tab (and its WebSocket) is gone
            t0 = time.monotonic()
            print("tab closed:")
            freed = watch(probe_path, wait, "after closing", t0)
            if freed is None:
                print(f"  still there after {wait:.0f} s: another tab opens and closes")
                other = browser.new_context(viewport=kit.VIEWPORT)
                kit.prepare_context(other)
                kit.open_app(other.new_page(), f"{url}/welcome")
                other.close()
                freed = watch(probe_path, max(60.0, ttl + 30.0), "after another tab", t0)
            browser.close()
        if freed is not None:
            print(f"uploaded data freed {freed['after_close_s']:.0f} s after the tab closed; server {freed['rss_mb']} MB")
        else:
            print("uploaded data still in the server at the end")
    chain = probe_path.with_suffix(".chain")
    if chain.exists():
        print("what held the upload (last probe):", chain.read_text().strip().splitlines()[-1])
    holders = probe_path.with_suffix(".holders")
    if holders.exists():
        print("what still held the upload (last probe):", holders.read_text().strip().splitlines()[-1])
    print(f"load: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
