"""Time lmm_core against statsmodels MixedLM on the same models, in one process.

    python benchmarks/bench_engine.py            # everything (statsmodels on 10,000 groups takes a while)
    python benchmarks/bench_engine.py --quick    # fewer repeats, statsmodels only up to 1,000 groups

Prints, per model, the median wall time of a complete fit (formula to estimates) for each
engine, the ratio, and the REML criterion each reached (lower is better; statsmodels'
is -2 × its REML log-likelihood, which is on the same scale as lme4's).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets  # noqa: E402
from lmm_core import lmer  # noqa: E402


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def statsmodels_fit(data, response, fixed, group, re_formula):
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm(f"{response} ~ {fixed}", data, groups=data[group], re_formula=re_formula)
        return model.fit(reml=True)


def simulated(n_groups: int, per_group: int = 5, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per_group)
    x = np.tile(np.arange(per_group, dtype=float), n_groups)
    b0 = rng.normal(0, 0.5, n_groups)
    b1 = rng.normal(0, 0.2, n_groups)
    y = 2 + b0[g] + (0.3 + b1[g]) * x + rng.normal(0, 0.4, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; statsmodels up to 1,000 groups")
    args = parser.parse_args(argv)

    iris = datasets.load("iris").rename(columns=lambda c: c.replace(".", "_"))
    cases = [
        ("sleepstudy (Days | Subject)", datasets.load("sleepstudy"), "Reaction", "Days", "Subject", "~Days"),
        ("GPA (1 + occasion | student)", datasets.load("gpa"), "gpa", "occasion", "student", "~occasion"),
        ("iris (1 + Sepal.Length | Species)", iris, "Petal_Width", "Sepal_Width + Sepal_Length", "Species",
         "~Sepal_Length"),
    ]
    for n_groups in (10, 100, 1_000, 10_000):
        cases.append((f"simulated {n_groups:>6} groups × 5", simulated(n_groups), "y", "x", "g", "~x"))

    print(f"{'model':38} {'lmm_core':>10} {'statsmodels':>12} {'ratio':>7}  {'objective lmm_core':>19} {'statsmodels':>12}")
    for label, data, response, fixed, group, re_formula in cases:
        slope = re_formula[1:]
        formula = f"{response} ~ {fixed} + (1 + {slope} | {group})"
        n_groups = data[group].nunique()
        repeats = 3 if n_groups >= 10_000 else (10 if args.quick else 30)
        ours_t, fit = median_time(lambda: lmer(formula, data), repeats)
        sm_t, sm_obj = float("nan"), float("nan")
        if not (args.quick and n_groups > 1_000):
            sm_repeats = 1 if n_groups >= 1_000 else (3 if args.quick else 5)
            sm_t, res = median_time(lambda: statsmodels_fit(data, response, fixed, group, re_formula), sm_repeats)
            sm_obj = -2 * res.llf
        ratio = sm_t / ours_t
        print(f"{label:38} {ours_t * 1e3:8.2f}ms {sm_t * 1e3:10.1f}ms {ratio:6.1f}×  {fit.objective:19.4f} {sm_obj:12.4f}")


if __name__ == "__main__":
    main()
