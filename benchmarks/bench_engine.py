"""Time lmm_core against statsmodels MixedLM and lme4 on the same models, in one run.

    python benchmarks/bench_engine.py            # everything, InstEval included (a few minutes)
    python benchmarks/bench_engine.py --quick    # fewer repeats, no InstEval, statsmodels up to 100 groups

Prints, per model, the median wall time of a complete fit (formula and data frame to estimates)
for each engine, the ratios, and the REML criterion each reached (lower is better; statsmodels'
is -2 × its REML log-likelihood, on the same scale as lme4's). lme4 is timed in the same run by
one call of Rscript on benchmarks/bench_lme4.R (each model fitted N times, medians printed); without
R it says "lme4 not available". InstEval is fitted in a child process so that its peak memory
(ru_maxrss) can be reported. Then the goal table, and the machine's load (uptime).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import datasets  # noqa: E402
from lmm_core import lmer  # noqa: E402

CROSSED = ROOT / "tests" / "data" / "lme4_crossed"
REFERENCE = json.loads((CROSSED / "lme4_crossed.json").read_text())
INSTEVAL = "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)"


class Timing(tuple):
    """(median wall seconds, median CPU seconds of this process)."""

    wall = property(lambda self: self[0])
    cpu = property(lambda self: self[1])


NA = Timing((float("nan"), float("nan")))


def median_time(fn, repeats: int, warm_up: bool = True) -> tuple[Timing, object]:
    """Medians of ``repeats`` timed calls, after one untimed call when ``warm_up`` (as bench_lme4.R
    warms lme4 up: first-call costs such as lazy imports are not what a fit costs)."""
    walls, cpus, result = [], [], None
    if warm_up and repeats > 1:
        fn()
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return Timing((statistics.median(walls), statistics.median(cpus))), result


def load_crossed(name: str) -> pd.DataFrame:
    data = pd.read_csv(CROSSED / name, dtype=str)
    for column in {"y", "strength", "diameter"} & set(data.columns):
        data[column] = pd.to_numeric(data[column])
    return data


def simulated(n_groups: int, per_group: int = 5, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per_group)
    x = np.tile(np.arange(per_group, dtype=float), n_groups)
    b0 = rng.normal(0, 0.5, n_groups)
    b1 = rng.normal(0, 0.2, n_groups)
    y = 2 + b0[g] + (0.3 + b1[g]) * x + rng.normal(0, 0.4, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})


# -- statsmodels ----------------------------------------------------------------------
def statsmodels_one_factor(data, response, fixed, group, re_formula):
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.mixedlm(f"{response} ~ {fixed}", data, groups=data[group], re_formula=re_formula).fit(reml=True)


def statsmodels_crossed(data, response, factors):
    """Crossed or nested intercepts as variance components of one all-covering group."""
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vc = {f: f"0 + C({f})" for f in factors}
        model = smf.mixedlm(f"{response} ~ 1", data, groups=np.ones(len(data)), vc_formula=vc, re_formula="0")
        return model.fit(reml=True)


# -- lme4 -----------------------------------------------------------------------------
def lme4_times(repeats: int, insteval: bool) -> dict[str, tuple[Timing, float]] | None:
    """{model id: ((median wall, CPU seconds), REML criterion)} from one Rscript run, or None without R."""
    if shutil.which("Rscript") is None:
        return None
    args = ["Rscript", str(ROOT / "benchmarks" / "bench_lme4.R"), str(repeats), str(datasets.DATA_DIR)]
    if insteval:
        args.append("insteval")
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=3600).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"lme4 run failed: {exc}")
        return None
    result = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            result[parts[0]] = (Timing((float(parts[1]), float(parts[2]))), float(parts[3]))
    return result


# -- InstEval in a child process (peak memory) --------------------------------------------
def insteval_child() -> None:
    data = load_crossed("insteval.csv.gz")
    start, start_cpu = time.perf_counter(), time.process_time()
    fit = lmer(INSTEVAL, data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": rss_mb, "objective": fit.objective,
                      "evaluations": fit.optimum.evaluations}))


def insteval_run() -> dict:
    out = subprocess.run([sys.executable, __file__, "--insteval-child"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt_ms(seconds) -> str:
    return "       n/a" if seconds is None or not np.isfinite(seconds) else f"{seconds * 1e3:8.1f}ms"


def fmt_ratio(a, b) -> str:
    if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
        return "    n/a"
    return f"{a / b:6.1f}×"


def row(label, ours: Timing, sm: Timing, r: Timing, obj, sm_obj, r_obj) -> None:
    print(f"{label:36} {fmt_ms(ours.wall)} {fmt_ms(sm.wall)} {fmt_ms(r.wall)} {fmt_ratio(sm.wall, ours.wall)} "
          f"{fmt_ratio(r.wall, ours.wall)}   {fmt_ms(ours.cpu)} {fmt_ratio(sm.cpu, ours.cpu)} "
          f"{fmt_ratio(r.cpu, ours.cpu)}  {obj:15.6f} {sm_obj:12.4f} {r_obj:12.4f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no InstEval, statsmodels up to 100 groups")
    parser.add_argument("--insteval-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.insteval_child:
        insteval_child()
        return

    repeats = 10 if args.quick else 30
    r_repeats = 5 if args.quick else 20
    print(f"lme4: one Rscript run, {r_repeats} fits per model{'' if args.quick else ' (InstEval once)'} ...", flush=True)
    lme4 = lme4_times(r_repeats, insteval=not args.quick)
    if lme4 is None:
        print("lme4 not available (no Rscript with lme4): its columns are n/a")
        lme4 = {}

    iris = datasets.load("iris").rename(columns=lambda c: c.replace(".", "_"))
    one_factor = [
        ("sleepstudy", "sleepstudy (Days | Subject)", datasets.load("sleepstudy"), "Reaction", "Days", "Subject", "~Days"),
        (None, "GPA (1 + occasion | student)", datasets.load("gpa"), "gpa", "occasion", "student", "~occasion"),
        (None, "iris (1 + Sepal.Length | Species)", iris, "Petal_Width", "Sepal_Width + Sepal_Length", "Species",
         "~Sepal_Length"),
    ]
    for n_groups in (10, 100, 1_000, 10_000):
        one_factor.append((None, f"simulated {n_groups:>6} groups × 5", simulated(n_groups), "y", "x", "g", "~x"))

    print(f"{'':36} {'median wall time of a fit':^32} {'wall ratio':^15}   {'CPU time, ratios':^24}  "
          f"{'criterion reached':^41}")
    print(f"{'model':36} {'lmm_core':>10} {'statsm.':>10} {'lme4':>10} {'sm/ours':>7} {'lme4/ours':>7}   "
          f"{'lmm_core':>10} {'sm/ours':>7} {'lme4/ours':>7}  {'lmm_core':>15} {'statsmodels':>12} {'lme4':>12}")
    rows = {}
    for key, label, data, response, fixed, group, re_formula in one_factor:
        formula = f"{response} ~ {fixed} + (1 + {re_formula[1:]} | {group})"
        n_groups = data[group].nunique()
        ours_t, fit = median_time(lambda: lmer(formula, data), 3 if n_groups >= 10_000 else repeats)
        sm_t, sm_obj = NA, float("nan")
        if not (args.quick and n_groups > 100) and n_groups <= 1_000:
            sm_repeats = 1 if n_groups >= 1_000 else (3 if args.quick else 5)
            sm_t, res = median_time(lambda: statsmodels_one_factor(data, response, fixed, group, re_formula),
                                    sm_repeats)
            sm_obj = -2 * res.llf
        r_t, r_obj = lme4.get(key, (NA, float("nan"))) if key else (NA, float("nan"))
        rows[key] = (ours_t, sm_t, r_t, fit.objective, r_obj)
        row(label, ours_t, sm_t, r_t, fit.objective, sm_obj, r_obj)

    crossed = [
        ("penicillin", "Penicillin (1|plate) + (1|sample)", "penicillin.csv", "diameter", ["plate", "sample"]),
        ("pastes", "Pastes (1|batch) + (1|batch:cask)", "pastes.csv", "strength", ["batch", "sample"]),
    ]
    for key, label, file, response, factors in crossed:
        data = load_crossed(file)
        formula = REFERENCE[key]["formula"]
        ours_t, fit = median_time(lambda: lmer(formula, data), repeats)
        sm_t, res = median_time(lambda: statsmodels_crossed(data, response, factors), 3 if args.quick else 5)
        r_t, r_obj = lme4.get(key, (NA, REFERENCE[key]["objective"]))
        rows[key] = (ours_t, sm_t, r_t, fit.objective, r_obj)
        row(label, ours_t, sm_t, r_t, fit.objective, -2 * res.llf, r_obj)

    inst = None
    if not args.quick:
        inst = insteval_run()
        r_t, r_obj = lme4.get("insteval", (NA, REFERENCE["insteval"]["objective"]))
        ours_t = Timing((inst["seconds"], inst["cpu"]))
        rows["insteval"] = (ours_t, NA, r_t, inst["objective"], r_obj)
        row("InstEval (1|s)+(1|d)+(1|dept)", ours_t, NA, r_t, inst["objective"], float("nan"), r_obj)
        print(f"  InstEval: {inst['evaluations']} criterion evaluations, peak RSS {inst['rss_mb']:.0f} MB "
              "(statsmodels not run: far too slow)")
    print("  statsmodels is not run beyond 1,000 groups" + (" (100 in --quick)" if args.quick else ""))

    print("\nGoals (ratios of medians from this run, wall time / CPU time; lme4's criterion from this run,"
          " or from tests/data/lme4_crossed when R is absent):")

    def goal(text, ok):
        print(f"  [{'met' if ok else 'NOT met' if ok is not None else 'n/a'}] {text}")

    def ratio_goal(text, theirs: Timing, ours: Timing, target):
        if not np.isfinite(theirs.wall):
            return goal(f"{text}: no measurement", None)
        wall, cpu = theirs.wall / ours.wall, theirs.cpu / ours.cpu
        goal(f"{text}: {wall:.1f}× wall, {cpu:.1f}× CPU", wall >= target)

    ours_t, sm_t, r_t, obj, r_obj = rows["sleepstudy"]
    ratio_goal("sleepstudy ≥ 20× statsmodels", sm_t, ours_t, 20)
    ratio_goal("sleepstudy ≥ 5× lme4", r_t, ours_t, 5)
    ours_t, sm_t, r_t, obj, r_obj = rows["penicillin"]
    ratio_goal("Penicillin ≥ 3× lme4", r_t, ours_t, 3)
    ours_t, sm_t, r_t, obj, r_obj = rows["pastes"]
    goal(f"Pastes criterion ≤ lme4 + 1e-7: ours − lme4 = {obj - r_obj:+.2e}", obj <= r_obj + 1e-7)
    if inst is not None:
        r_obj = rows["insteval"][4]
        goal(f"InstEval < 10 s: {inst['seconds']:.1f} s wall, {inst['cpu']:.1f} s CPU", inst["seconds"] < 10)
        goal(f"InstEval < 1 GB peak RSS: {inst['rss_mb']:.0f} MB", inst["rss_mb"] < 1024)
        goal(f"InstEval criterion as lme4's (≤ + 1e-7): ours − lme4 = {inst['objective'] - r_obj:+.2e}",
             inst["objective"] <= r_obj + 1e-7)
    else:
        print("  (InstEval skipped in --quick)")
    load = os.getloadavg()
    print(f"\nload average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
