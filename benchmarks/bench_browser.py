"""Slider latency in a real browser: from a key press to the redrawn figure.

    python benchmarks/bench_browser.py                       # the lab, slider "groups", 40 moves
    python benchmarks/bench_browser.py --page "" --data gpa --slider panels   # three ways to pool
    python benchmarks/bench_browser.py --url http://127.0.0.1:8671            # a server already running

Headless Chromium (Debian's package, see browser_kit.find_chromium) opens the page, focuses
the slider and presses ArrowRight (ArrowLeft at the slider's maximum). Each move is timed on the
page's own clock, from the keydown event to the last `plotly_afterplot` of the chosen figure
after the rerun the key caused has finished: what a student waits for. Goal on the lab page:
median < 300 ms, 95th percentile < 600 ms.

Each move is a new slider value (a new simulation) unless the slider reaches its end, so the
server's cross-session caches do not flatter the numbers. The machine's load is printed: on a
busy machine the numbers are worse than on an idle one.
"""
from __future__ import annotations

import argparse
import sys
import time

import browser_kit as kit

GOAL_MEDIAN_MS, GOAL_P95_MS = 300, 600


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="lab", help="url path of the page (default: lab; '' is the default page)")
    parser.add_argument("--slider", default="groups", help="widget key of the slider to move (default: groups)")
    parser.add_argument("--data", default=None, help="data set in the URL (?data=...)")
    parser.add_argument("--figure", type=int, default=0, help="which figure on the page to time (0 = first)")
    parser.add_argument("--moves", type=int, default=40, help="timed moves (at least 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed moves first")
    parser.add_argument("--url", default=None, help="use a running server instead of starting one")
    parser.add_argument("--timeout", type=float, default=30, help="seconds allowed for one move")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop measuring after this long")
    return parser.parse_args(argv)


def measure(page, args) -> tuple[list[float], int]:
    """Warm-up, then timed moves; returns (latencies in ms, failed moves)."""
    for _ in range(args.warmup):
        kit.press_and_time(page, args.slider, figure=args.figure, timeout_ms=args.timeout * 1000)
    latencies, failures = [], 0
    deadline = time.monotonic() + args.max_seconds
    while len(latencies) + failures < args.moves and time.monotonic() < deadline:
        try:
            latencies.append(kit.press_and_time(page, args.slider, figure=args.figure,
                                                timeout_ms=args.timeout * 1000))
        except Exception as exc:  # a move that never redraws is a result, not a crash
            failures += 1
            print(f"move failed: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        page.wait_for_timeout(100)  # let the server go idle, as between a student's key presses
    return latencies, failures


def run(args, base_url: str) -> int:
    url = f"{base_url}/{args.page.lstrip('/')}" + (f"?data={args.data}" if args.data else "")
    with kit.chromium_browser() as browser:
        context = browser.new_context(viewport=kit.VIEWPORT)
        kit.prepare_context(context)
        page = context.new_page()
        kit.open_app(page, url)
        if kit.slider(page, args.slider).count() == 0:
            print(f"no slider with key {args.slider!r} on {url}", file=sys.stderr)
            return 2
        latencies, failures = measure(page, args)
        problems = kit.page_problems(page)
    median, p95 = kit.summary(latencies)
    print(f"machine: {kit.machine()}")
    print(f"page {url}, slider {args.slider!r}, figure {args.figure}: {len(latencies)} moves, "
          f"{failures} failed")
    if latencies:
        print(f"key press -> redrawn figure: median {median:.0f} ms, p95 {p95:.0f} ms, "
              f"min {min(latencies):.0f} ms, max {max(latencies):.0f} ms")
        met = median < GOAL_MEDIAN_MS and p95 < GOAL_P95_MS
        print(f"goal (median < {GOAL_MEDIAN_MS} ms, p95 < {GOAL_P95_MS} ms): {'met' if met else 'NOT met'}")
    for problem in problems:
        print(f"page shows {problem}", file=sys.stderr)
    return 0 if latencies and not failures and not problems else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.url:
        return run(args, args.url.rstrip("/"))
    with kit.StreamlitServer() as server:
        return run(args, server.base_url)


if __name__ == "__main__":
    sys.exit(main())
