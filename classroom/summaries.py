"""What the projector shows, computed from the stored submissions. Pure numpy, tested.

- ``answer_shares``: the distribution of answers to a question;
- ``sampling_summary``: for one group, every student's no-pooling and partial-pooling
  estimate around the group's true value, and per method and coefficient the bias (mean
  estimate − truth), the spread (SD of the estimates) and the RMSE (√(bias² + spread²), up
  to the n/(n−1) in the SD);
- ``by_group_size``: the same errors pooled over all groups of each size (RMSE and spread;
  there the bias of the mixed model cancels between groups above and below the average, so
  the *pull* column says how far estimates sit towards the average).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METHODS = ("none", "partial")
COEFFICIENTS = ("intercept", "slope")
LETTERS = "ABCDEFGH"


def answer_shares(counts) -> pd.DataFrame:
    """letter, count, share (0..1 of the answers given) per option, in display order."""
    counts = np.asarray(list(counts), dtype=int)
    total = int(counts.sum())
    shares = counts / total if total else np.zeros(len(counts))
    return pd.DataFrame({"letter": list(LETTERS[:len(counts)]), "count": counts, "share": shares})


def estimates_array(samples, method: str) -> np.ndarray:
    """(students, groups, 2) array of one method's estimates; NaN where a student had none."""
    rows = []
    for sample in samples:
        rows.append([[np.nan, np.nan] if pair is None else pair for pair in sample.estimates[method]])
    if not rows:
        return np.empty((0, 0, 2))
    return np.asarray(rows, dtype=float)


@dataclass(frozen=True)
class GroupSampling:
    """The class's sampling distributions for one group. ``points``: one row per student and
    method (method, intercept, slope); ``table``: per method and coefficient n, truth, mean,
    bias, spread, rmse."""

    group: str
    truth: tuple[float, float]
    points: pd.DataFrame
    table: pd.DataFrame

    @property
    def n_students(self) -> int:
        return int(self.points["method"].eq("partial").sum()) if len(self.points) else 0


def _stats(values: np.ndarray, truth: float) -> dict[str, float]:
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return {"n": 0, "mean": np.nan, "bias": np.nan, "spread": np.nan, "rmse": np.nan}
    mean = float(values.mean())
    spread = float(values.std(ddof=1)) if n > 1 else np.nan
    return {"n": n, "mean": mean, "bias": mean - truth,
            "spread": spread, "rmse": float(np.sqrt(np.mean((values - truth) ** 2)))}


def sampling_summary(samples, truth: pd.DataFrame, group: str) -> GroupSampling:
    """``truth``: per group (index, in the order of the stored estimates) intercept and slope."""
    order = [str(g) for g in truth.index]
    j = order.index(str(group))
    true = (float(truth["intercept"].iloc[j]), float(truth["slope"].iloc[j]))
    frames, rows = [], []
    for method in METHODS:
        est = estimates_array(samples, method)
        mine = est[:, j, :] if est.size else np.empty((0, 2))
        frames.append(pd.DataFrame({"method": method, "intercept": mine[:, 0], "slope": mine[:, 1]}))
        for c, coefficient in enumerate(COEFFICIENTS):
            rows.append({"method": method, "coefficient": coefficient, "truth": true[c],
                         **_stats(mine[:, c], true[c])})
    points = pd.concat(frames, ignore_index=True).dropna()
    return GroupSampling(str(group), true, points, pd.DataFrame(rows))


def by_group_size(samples, truth: pd.DataFrame, sizes: pd.Series, population: tuple[float, float]) -> pd.DataFrame:
    """Per group size, method and coefficient: groups, estimates, rmse, spread of the errors,
    and pull = 1 − mean((estimate − population)·(truth − population)) / mean((truth − population)²)
    — 0 when estimates sit at the true distance from the average, 1 when they sit on the average
    (the regression of estimate on truth has slope 1 − pull)."""
    sizes = np.asarray(sizes.reindex([str(g) for g in truth.index]).to_numpy(), dtype=int)
    true = truth[["intercept", "slope"]].to_numpy(float)
    rows = []
    for method in METHODS:
        est = estimates_array(samples, method)
        if est.size == 0:
            continue
        for n in sorted(set(sizes.tolist())):
            cols = sizes == n
            for c, coefficient in enumerate(COEFFICIENTS):
                e = est[:, cols, c]
                t = np.broadcast_to(true[cols, c], e.shape)
                ok = np.isfinite(e)
                if not ok.any():
                    continue
                err = (e - t)[ok]
                dev_true = (t - population[c])[ok]
                dev_est = (e - population[c])[ok]
                denom = float(np.mean(dev_true**2))
                pull = 1.0 - float(np.mean(dev_est * dev_true)) / denom if denom > 0 else np.nan
                rows.append({"size": int(n), "method": method, "coefficient": coefficient,
                             "groups": int(cols.sum()), "estimates": int(ok.sum()),
                             "rmse": float(np.sqrt(np.mean(err**2))), "spread": float(err.std()),
                             "pull": pull})
    return pd.DataFrame(rows, columns=["size", "method", "coefficient", "groups", "estimates", "rmse",
                                       "spread", "pull"])


def default_group(truth: pd.DataFrame, sizes: pd.Series, population: tuple[float, float],
                  scale: tuple[float, float]) -> str:
    """The group that shows shrinkage best: among the smallest groups that still have a line
    of their own (2+ observations), the one whose truth is farthest from the average (in SDs)."""
    order = [str(g) for g in truth.index]
    n = sizes.reindex(order).to_numpy()
    candidates = n >= 2 if (n >= 2).any() else np.ones_like(n, dtype=bool)
    smallest = n == n[candidates].min()
    chosen = candidates & smallest
    t = truth[["intercept", "slope"]].to_numpy(float)
    sd = np.where(np.asarray(scale, float) > 0, np.asarray(scale, float), 1.0)
    distance = np.sqrt((((t - np.asarray(population)) / sd) ** 2).sum(axis=1))
    distance = np.where(chosen, distance, -np.inf)
    return order[int(np.argmax(distance))]


def _closer_to(mean: tuple[float, float], truth: tuple[float, float], population: tuple[float, float],
               sd: tuple[float, float]) -> bool:
    """Whether a class mean (intercept, slope) lies nearer the population value than the truth does,
    distances in units of the true spread of each coefficient."""
    scale = np.where(np.asarray(sd, float) > 0, np.asarray(sd, float), 1.0)
    d_pop = np.hypot(*((np.asarray(mean) - np.asarray(population)) / scale))
    d_true = np.hypot(*((np.asarray(mean) - np.asarray(truth)) / scale))
    return bool(d_pop < d_true)


def cloud_sentence(summary: GroupSampling, population: tuple[float, float], sd: tuple[float, float]) -> str:
    """The sampling cloud's caption ending, from the class's numbers: which method scatters
    less (spread of the estimates, per coefficient) and where the mixed model's average sits."""
    t = summary.table.set_index(["method", "coefficient"])
    parts = []
    for c in COEFFICIENTS:
        own, mixed = float(t.loc[("none", c), "spread"]), float(t.loc[("partial", c), "spread"])
        if not (np.isfinite(own) and np.isfinite(mixed)):
            continue
        word = "less" if mixed < own else "more"
        parts.append(f"{c}s {mixed:.3g} against {own:.3g}: the mixed model scatters {word}")
    if not parts:
        return "Too few samples yet to compare how much each method scatters."
    text = "Spread (SD) of the class's estimates, mixed model against own regression: " + "; ".join(parts) + "."
    mean = (float(t.loc[("partial", "intercept"), "mean"]), float(t.loc[("partial", "slope"), "mean"]))
    if all(np.isfinite(mean)):
        if _closer_to(mean, summary.truth, population, sd):
            text += " The mixed model's class average (large purple diamond) sits nearer the population average (star) than the truth does: that is its bias."
        else:
            text += " The mixed model's class average (large purple diamond) sits nearer this group's truth than the population average: this group is pulled little."
    return text


def size_sentence(by_size: pd.DataFrame, coefficient: str = "intercept") -> str:
    """The error-by-size caption ending, from the numbers: for each group size how much smaller
    (or larger) the mixed model's RMSE is, and for which size it gains most."""
    rows = by_size[by_size["coefficient"] == coefficient].pivot(index="size", columns="method", values="rmse")
    rows = rows.dropna()
    if rows.empty or not {"none", "partial"} <= set(rows.columns):
        return ""
    gain = 1.0 - rows["partial"] / rows["none"]
    best = int(gain.idxmax())
    text = ", ".join(f"{int(n)} obs: {g:+.0%}" for n, g in gain.items())
    if (gain > 0).all():
        verdict = f"the mixed model is more accurate for every group size, most for groups of {best}"
    elif (gain <= 0).all():
        verdict = "the mixed model is not more accurate for any group size in these samples"
    else:
        verdict = f"the mixed model gains most for groups of {best}, and loses for some sizes"
    return f"How much smaller the mixed model's error is ({text}): {verdict}."
