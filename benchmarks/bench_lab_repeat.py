"""Benchmark: the lab's "repeat this experiment R times" (200 refits of the default settings).

    python benchmarks/bench_lab_repeat.py [--repeats 200] [--runs 5]

Prints the median wall time of repeat_experiment and the machine load (uptime), and checks
one copy against an independent full fit (compare_pooling). Not a test: timings depend on
the machine and its load.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from teaching.lab_repeat import _copies, repeat_experiment  # noqa: E402
from teaching.pooling import compare_pooling  # noqa: E402
from teaching.simulate import GPA  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    times, cpu = [], []
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        exp = repeat_experiment(GPA, args.repeats)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    g, X, truth, Y = _copies(GPA, args.repeats)
    d = pd.DataFrame({"group": np.asarray(g.levels, object)[g.codes], "x": g.x, "y": Y[:, -1]})
    full = compare_pooling(d, "y", "group", "x", random="both")
    est = exp.estimates.query("rep == @args.repeats - 1 and method == 'partial' and coefficient == 'slope'")
    diff = float(np.abs(full.coefficients["partial"][:, 1] - est["estimate"].to_numpy()).max())
    print(f"repeat_experiment, {args.repeats} refits of {GPA.n_groups} groups x {GPA.n_per_group}: "
          f"median {statistics.median(times):.2f} s wall over {args.runs} runs (min {min(times):.2f} s), "
          f"median CPU time {statistics.median(cpu):.2f} s; "
          f"largest difference from a full refit {diff:.1e}; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
