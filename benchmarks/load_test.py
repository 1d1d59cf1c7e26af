"""Lecture-hall load test: N students moving a slider on the lab page of one `streamlit run`.

    python benchmarks/load_test.py                        # N = 1, 10, 30, 60
    python benchmarks/load_test.py --clients 1,10 --moves 5 --max-seconds 60   # a quick look
    python benchmarks/load_test.py --through-proxy --replicas 2 --clients 60,120  # behind HAProxy

Each student is a light WebSocket client that speaks Streamlit's own protocol (the protobuf
messages in `streamlit.proto`), not a browser tab: 60 Chromium tabs need more CPU than the
2-core machine the server is meant to run on, so a browser-based test would measure the
browsers, not the server. In a lecture each student's browser runs on the student's own
laptop; what the students share is the server, and that is what this test loads.

So that the clients send exactly what a browser sends, the test first records one real slider
move: headless Chromium opens the lab, presses ArrowRight twice on the slider, and the
WebSocket frames it sends become the template (widget ids, fragment id, page hash, the values
of all other widgets). Every client then replays that template with its own slider value and
its own seed, so no two clients ask for the same simulation and the server's cross-session
caches cannot flatter the result (a class that all uses the same seed is cheaper:
`--same-seed`).

With `--through-proxy` the replicas run behind the real HAProxy, as deployed (deploy/replicas.py,
the config template of deploy/haproxy.cfg): each student first loads the page's HTML through
the proxy, as a browser does, keeps the SERVERID cookie HAProxy sets, and opens its WebSocket
with that cookie; HAProxy picks the replica (leastconn) and keeps the student on it. Without
it, student i talks straight to replica i mod k (`--replicas k`), as behind an ideal balancer.

Per N the test starts a fresh server, lets the clients arrive over `--ramp` seconds, and each
client opens the page, then makes `--moves` slider moves with a think time between them. Per
move it records the time from sending the move to receiving the redrawn first figure (what
the browser then draws, typically 50-150 ms more, see bench_browser.py) and to the end of the
run. It prints, per N, the median and 95th percentile of both, errors (exceptions or error
boxes in the page, a figure that did not change, timeouts, dropped connections) and the server's memory
(resident set size, peak) and CPU use. Everything stays on the loopback interface, and every
wait is bounded (`--timeout` per message, `--max-seconds` per N).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import browser_kit as kit

sys.path.insert(0, str(kit.ROOT))  # the repository root, for the deploy package
from app_shell import live_chart  # noqa: E402  (the component ui.show draws figures in)
from deploy import replicas as dep  # noqa: E402
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

GOAL_P95_MS = 1500  # issue 18: one process holds a 60-student lecture


# -- the template: one real move, recorded from Chromium ----------------------------------
def record_move(base_url: str, page_path: str, slider: str) -> BackMsg:
    """The BackMsg a browser sends for the second ArrowRight on `slider` (after the first,
    widgets such as the lab's preset selector already show their moved-slider values)."""
    frames: list[bytes] = []
    with kit.chromium_browser() as browser:
        context = browser.new_context(viewport=kit.VIEWPORT)
        kit.prepare_context(context)
        page = context.new_page()
        page.on("websocket", lambda ws: ws.on(
            "framesent", lambda payload: frames.append(bytes(payload)) if isinstance(payload, (bytes, bytearray))
            else None))
        kit.open_app(page, f"{base_url}/{page_path}")
        kit.press_and_time(page, slider, "ArrowRight")
        kit.press_and_time(page, slider, "ArrowRight")
    moves = []
    for raw in frames:
        msg = BackMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "rerun_script" and _widget(msg, slider) is not None:
            moves.append(msg)
    if not moves:
        raise RuntimeError(f"the browser sent no rerun with slider {slider!r}")
    template = moves[-1]
    del template.rerun_script.cached_message_hashes[:]  # our clients keep no message cache
    return template


def _widget(msg: BackMsg, key: str):
    for state in msg.rerun_script.widget_states.widgets:
        if state.id.endswith(f"-{key}"):
            return state
    return None


def first_visit(template: BackMsg, page_path: str, seed: int | None) -> bytes:
    """The rerun a browser sends when it opens the page's URL (no widget states yet; the page
    by its url path, since the page's hash is only known from the server's answer)."""
    msg = BackMsg()
    msg.rerun_script.page_name = page_path
    msg.rerun_script.context_info.CopyFrom(template.rerun_script.context_info)
    msg.rerun_script.query_string = f"seed={seed}" if seed is not None else ""
    # Present but empty, as a browser sends it: without the field the server reuses an older
    # client state, and the page's fragments are not registered for this session.
    msg.rerun_script.widget_states.SetInParent()
    return msg.SerializeToString()


def move(template: BackMsg, slider: str, value: int, seed: int | None) -> bytes:
    """The template with this client's slider value and seed, in the widgets and the URL."""
    msg = BackMsg()
    msg.CopyFrom(template)
    state = _widget(msg, slider)
    del state.double_array_value.data[:]
    state.double_array_value.data.append(value)
    query = dict(urllib.parse.parse_qsl(msg.rerun_script.query_string))
    query[slider] = str(value)
    seed_state = _widget(msg, "seed")
    if seed is not None and seed_state is not None:
        seed_state.int_value = seed
        query["seed"] = str(seed)
    msg.rerun_script.query_string = urllib.parse.urlencode(query)
    return msg.SerializeToString()


# -- one student ------------------------------------------------------------------------
@dataclass
class Results:
    figure_ms: list[float] = field(default_factory=list)
    finished_ms: list[float] = field(default_factory=list)
    open_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)  # students per replica (through the proxy)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class Run:
    """What the server answered to one rerun request."""
    figure_s: float | None = None
    figure_hash: int | None = None
    finished_s: float | None = None
    problems: list[str] = field(default_factory=list)


def figure_of(element, what: str) -> bytes | str | None:
    """The figure an element carries (a live chart's message or st.plotly_chart's spec), else None."""
    if what == "plotly_chart":
        return element.plotly_chart.spec
    if what == "bidi_component":
        return live_chart.figure_bytes(element.bidi_component)
    return None


async def await_run(ws, started: float, timeout_s: float) -> Run:
    """Read messages until the run ends; note the first figure and any error element."""
    run = Run()
    deadline = started + timeout_s
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout=max(0.01, deadline - time.perf_counter()))
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            what = element.WhichOneof("type")
            figure = figure_of(element, what)
            if figure is not None and run.figure_s is None:
                run.figure_s = time.perf_counter() - started
                run.figure_hash = hash(figure)
            elif what == "exception":
                run.problems.append("exception")
            elif what == "alert" and element.alert.format == Alert.ERROR:
                run.problems.append("error box")
        elif kind == "script_finished":
            run.finished_s = time.perf_counter() - started
            return run


def load_page(base_url: str, page_path: str, timeout_s: float) -> tuple[str | None, str | None]:
    """GET the page's HTML through the proxy as a browser does: (SERVERID cookie, replica)."""
    request = urllib.request.Request(f"{base_url}/{page_path}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=timeout_s) as reply:
        reply.read()
        cookie = None
        for header in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == dep.COOKIE:
                cookie = rest.split(";", 1)[0]
        return cookie, reply.headers.get(dep.REPLICA_HEADER)


async def student(index: int, url: str, template: BackMsg, args, results: Results, stop_at: float) -> None:
    rng = random.Random(index)
    seed = None if args.same_seed else 1000 + index
    await asyncio.sleep(rng.uniform(0, args.ramp))
    value = int(_widget(template, args.slider).double_array_value.data[0])
    base = url.replace("ws://", "http://").split("/_stcore")[0]
    headers = {}
    try:
        if args.through_proxy:
            cookie, replica = await asyncio.to_thread(load_page, base, args.page, args.timeout)
            if cookie is None:
                results.error("no SERVERID cookie from the proxy")
            else:
                headers["Cookie"] = f"{dep.COOKIE}={cookie}"
        async with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=args.timeout,
                           origin=base, additional_headers=headers) as ws:
            if args.through_proxy:
                on = ws.response.headers.get(dep.REPLICA_HEADER)
                results.replicas[on] = results.replicas.get(on, 0) + 1
                if on != replica:
                    results.error("WebSocket not on the page's replica")
            started = time.perf_counter()
            await ws.send(first_visit(template, args.page, seed))
            opened = await await_run(ws, started, args.timeout)
            results.open_ms.append(1000 * opened.finished_s)
            if opened.figure_hash is None:
                results.error("no figure on opening")
            shown = opened.figure_hash
            for problem in opened.problems:
                results.error(f"{problem} on opening")
            for _ in range(args.moves):
                await asyncio.sleep(rng.uniform(*args.think))
                if time.perf_counter() > stop_at:
                    break
                value += 1
                started = time.perf_counter()
                await ws.send(move(template, args.slider, value, seed))
                answer = await await_run(ws, started, args.timeout)
                if answer.figure_s is None:
                    results.error("no figure redrawn")
                else:
                    results.figure_ms.append(1000 * answer.figure_s)
                    if answer.figure_hash == shown:  # the move did not reach the simulation
                        results.error("figure unchanged")
                    shown = answer.figure_hash
                results.finished_ms.append(1000 * answer.finished_s)
                for problem in answer.problems:
                    results.error(problem)
    except (asyncio.TimeoutError, TimeoutError):
        results.error("timeout")
    except OSError as exc:
        results.error(f"connection: {type(exc).__name__}")
    except Exception as exc:  # a closed socket mid-run and the like: count it, keep the others going
        results.error(f"{type(exc).__name__}")


# -- the server's side ------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux /proc); nan when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class ServerWatch(threading.Thread):
    """Samples the servers' memory (summed over replicas) and CPU time while the clients run."""

    def __init__(self, servers: list, every_s: float = 0.25):
        super().__init__(daemon=True)
        self.servers, self.every_s = servers, every_s
        self.peak_mb = 0.0
        self.done = threading.Event()

    def rss_mb(self) -> float:
        return sum(server.rss_mb() for server in self.servers)

    def cpu_seconds(self) -> float:
        """User + system CPU time of all server processes so far."""
        return sum(cpu_seconds(server.process.pid) for server in self.servers)

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_mb = max(self.peak_mb, self.rss_mb())
            time.sleep(self.every_s)


def one_n(n: int, template: BackMsg, args) -> dict:
    """Fresh servers, n students. Through the proxy, HAProxy places each student; otherwise
    student i talks to replica i mod k, as behind a load balancer with sticky sessions."""
    deployment = dep.Deployment(args.replicas) if args.through_proxy else None
    servers = deployment.replicas if deployment else [kit.StreamlitServer() for _ in range(args.replicas)]
    try:
        if deployment:
            deployment.start()
            urls = [f"ws://{kit.HOST}:{deployment.port}/_stcore/stream"]
        else:
            for server in servers:
                server.start()
            urls = [f"ws://{kit.HOST}:{server.port}/_stcore/stream" for server in servers]
        watch = ServerWatch(servers)
        idle_mb = watch.rss_mb()
        watch.start()
        cpu0, wall0 = watch.cpu_seconds(), time.perf_counter()
        proxy_cpu0 = cpu_seconds(deployment.proxy.pid) if deployment else 0.0
        results = Results()

        async def everyone():
            stop_at = time.perf_counter() + args.max_seconds
            tasks = [student(i, urls[i % len(urls)], template, args, results, stop_at) for i in range(n)]
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.max_seconds + args.timeout + 5)

        try:
            asyncio.run(everyone())
        except (asyncio.TimeoutError, TimeoutError):
            results.error("test stopped at --max-seconds")
        wall = time.perf_counter() - wall0
        cpu = watch.cpu_seconds() - cpu0
        proxy_cpu = cpu_seconds(deployment.proxy.pid) - proxy_cpu0 if deployment else float("nan")
        proxy_mb = deployment.proxy_rss_mb() if deployment else float("nan")
        watch.done.set()
        watch.join()
        end_mb = watch.rss_mb()
    finally:
        if deployment:
            deployment.stop()
        for server in servers:
            server.stop()
    fig_median, fig_p95 = kit.summary(results.figure_ms)
    done_median, done_p95 = kit.summary(results.finished_ms)
    return {"n": n, "moves": len(results.finished_ms), "fig_median": fig_median, "fig_p95": fig_p95,
            "done_median": done_median, "done_p95": done_p95,
            "open_median": kit.summary(results.open_ms)[0], "errors": results.errors,
            "idle_mb": idle_mb, "peak_mb": max(watch.peak_mb, end_mb), "end_mb": end_mb,
            "cpu_cores": cpu / wall if wall else float("nan"), "wall_s": wall,
            "proxy_cores": proxy_cpu / wall if wall else float("nan"), "proxy_mb": proxy_mb,
            "per_replica": dict(sorted(results.replicas.items(), key=lambda kv: str(kv[0]))),
            "load": ", ".join(f"{v:.1f}" for v in os.getloadavg())}


def table(rows: list[dict], through_proxy: bool = False) -> str:
    proxy_head = " students per replica | HAProxy CPU |" if through_proxy else ""
    lines = ["| students | moves | move → figure median | p95 | move → run done median | p95 | errors "
             "| server RSS idle → peak | server CPU |" + proxy_head + " load average (1, 5, 15 min) at end |",
             "|---:|---:|---:|---:|---:|---:|---|---:|---:|" + ("---|---:|" if through_proxy else "") + "---|"]
    for r in rows:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "0"
        proxy = ""
        if through_proxy:
            split = " / ".join(f"{k}: {v}" for k, v in r["per_replica"].items())
            proxy = f" {split} | {r['proxy_cores']:.2f} cores |"
        lines.append(f"| {r['n']} | {r['moves']} | {r['fig_median']:.0f} ms | {r['fig_p95']:.0f} ms "
                     f"| {r['done_median']:.0f} ms | {r['done_p95']:.0f} ms | {errors} "
                     f"| {r['idle_mb']:.0f} → {r['peak_mb']:.0f} MiB | {r['cpu_cores']:.2f} cores |{proxy} {r['load']} |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,10,30,60", help="comma-separated N (default 1,10,30,60)")
    parser.add_argument("--page", default="lab", help="url path of the page (default lab)")
    parser.add_argument("--slider", default="groups", help="slider key each student moves (default groups)")
    parser.add_argument("--moves", type=int, default=12, help="moves per student (default 12)")
    parser.add_argument("--think", default="2,6", help="seconds between a student's moves, min,max (default 2,6)")
    parser.add_argument("--ramp", type=float, default=10, help="students arrive over this many seconds")
    parser.add_argument("--timeout", type=float, default=30, help="seconds allowed for one run")
    parser.add_argument("--max-seconds", type=float, default=180, help="upper bound of one N's test")
    parser.add_argument("--same-seed", action="store_true", help="every student the same seed (shared caches)")
    parser.add_argument("--replicas", type=int, default=None,
                        help="servers on this machine; students split between them (sticky sessions); "
                             "default 1, or 2 with --through-proxy")
    parser.add_argument("--through-proxy", action="store_true",
                        help="the replicas behind HAProxy (deploy/replicas.py; needs `haproxy` installed)")
    args = parser.parse_args(argv)
    args.clients = [int(n) for n in args.clients.split(",")]
    args.think = tuple(float(v) for v in args.think.split(","))
    if args.replicas is None:
        args.replicas = 2 if args.through_proxy else 1
    if args.through_proxy and dep.haproxy_binary() is None:
        parser.error("--through-proxy needs haproxy (Debian: apt-get install haproxy)")
    if max(args.clients) > 200:
        parser.error("at most 200 clients: this is a lecture, not a stress test")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with kit.StreamlitServer() as server:
        template = record_move(server.base_url, args.page, args.slider)
    print(f"machine: {kit.machine()}")
    print(f"page /{args.page}, slider {args.slider!r}, {args.moves} moves per student, think "
          f"{args.think[0]:g}-{args.think[1]:g} s, arrival over {args.ramp:g} s, "
          f"{'one seed for all' if args.same_seed else 'a seed per student'}, "
          f"{args.replicas} server process{'es' if args.replicas > 1 else ''}"
          f"{' behind HAProxy' if args.through_proxy else ''}", flush=True)
    rows = []
    for n in args.clients:
        rows.append(one_n(n, template, args))
        r = rows[-1]
        print(f"N={n}: {r['moves']} moves, figure median {r['fig_median']:.0f} ms p95 {r['fig_p95']:.0f} ms, "
              f"errors {r['errors'] or 0}, RSS peak {r['peak_mb']:.0f} MiB, CPU {r['cpu_cores']:.2f} cores, "
              f"page open median {r['open_median']:.0f} ms"
              + (f", per replica {r['per_replica']}, HAProxy CPU {r['proxy_cores']:.2f} cores"
                 if args.through_proxy else "") + f", load average {r['load']}", flush=True)
    print()
    print(table(rows, args.through_proxy))
    worst = rows[-1]
    met = worst["fig_p95"] < GOAL_P95_MS and not worst["errors"]
    print(f"\ngoal for N={worst['n']} (p95 < {GOAL_P95_MS} ms, no errors): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
