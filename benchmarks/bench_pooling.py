"""Speed of the teaching computations: median wall time over repeated runs.

    python benchmarks/bench_pooling.py [--runs 30]

"simulation bundle" is what the Shrinkage lab page does on every slider move: simulate the
default GPA-sized data (200 groups × 6), fit all three ways (random intercept and slope),
compute the lines, the shrinkage (per group and the mean factor) and the errors against
the truth. The target is well under 50 ms.

Timings of such small problems depend on the machine's load (printed in the header) and on
BLAS threads: importing lmm_core makes BLAS single-threaded (lmm_core/threads.py; override
with LMM_CORE_BLAS_THREADS), which the header shows as the BLAS thread count.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402
from teaching.pooling import compare_pooling  # noqa: E402
from teaching.shrinkage import matrix_shrinkage  # noqa: E402
from teaching.simulate import SimulationSettings, evaluate_simulation, simulate  # noqa: E402


def simulation_bundle(seed: int) -> None:
    evaluation = evaluate_simulation(simulate(SimulationSettings(seed=seed)), random="both")
    matrix_shrinkage(evaluation.result)


def lab_slider_move(seed: int) -> None:
    """The server's work for one move of a lab slider on a cache miss: the view, both figures, their JSON."""
    import charts
    from teaching import lab

    settings = SimulationSettings(seed=seed + 1)
    view = lab.simulated_lab(settings)
    pop = view.result.population
    dist = charts.coefficient_distributions(lab.coefficient_values(view))
    fig = charts.shrinkage_map(view.result.table, population=(pop["intercept"], pop["slope"]),
                               ellipses=lab.estimated_rings(view.result), truth=lab.truth_table(view.sim),
                               true_ellipses=lab.true_rings(settings))
    fig.to_json(validate=False)
    dist.to_json(validate=False)


def median_ms(task, runs: int) -> float:
    task(0)  # warm-up: imports, caches
    times = []
    for i in range(runs):
        start = time.perf_counter()
        task(i)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    sleep, gpa = datasets.load("sleepstudy"), datasets.load("gpa")
    cases = {
        "simulation bundle (200 x 6, both, new seed each run)": simulation_bundle,
        "lab slider move (200 x 6: view + both figures + JSON)": lab_slider_move,
        "compare_pooling sleepstudy (Days | Subject)":
            lambda i: compare_pooling(sleep, "Reaction", "Subject", "Days", random="both"),
        "compare_pooling gpa (occasion | student)":
            lambda i: compare_pooling(gpa, "gpa", "student", "occasion", random="both"),
    }
    threads = os.environ.get("LMM_CORE_BLAS_THREADS", os.environ.get("OPENBLAS_NUM_THREADS", "default"))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"median over {runs} runs (BLAS threads {threads}; load average {load}; {os.cpu_count()} CPUs)")
    for name, task in cases.items():
        print(f"  {name:<55} {median_ms(task, runs):7.2f} ms")


if __name__ == "__main__":
    main()
