"""Time lmm_core's confint() (profile and Wald) on the models of tests/data/lme4_confint.

    python benchmarks/bench_confint.py            # 5 repeats per model
    python benchmarks/bench_confint.py --repeats 1

Prints, per model, the median wall time and the median CPU time of ``fit.confint()``
(the profile, every parameter, 95 %: the ML refit of a REML fit included) and of
``fit.confint("Wald")``, next to the seconds lme4 1.1-31 took for its profile on this machine
when the reference was made (make_reference.R). The machine's load is printed first: on a busy
machine the wall times are worse than on an idle one.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

import test_confint as ref  # noqa: E402  (its loaders and the lme4 reference)


def timed(fn, repeats: int):
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}, cores: {os.cpu_count()}")
    print(f"{'model':15} {'profile wall':>12} {'cpu':>7} {'lme4':>6} {'Wald wall':>10}")
    for model_id in ref.MODELS:
        fit = ref.fit_of(model_id)
        pw, pc = timed(lambda: fit.confint(), args.repeats)
        ww, _ = timed(lambda: fit.confint("Wald"), args.repeats)
        r = ref.REF[model_id].get("profile_seconds", float("nan"))
        print(f"{model_id:15} {pw:11.3f}s {pc:6.3f}s {r:5.2f}s {ww * 1e3:8.2f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
