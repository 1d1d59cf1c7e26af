"""Which groups to show when there are too many panels, and the observations to draw."""
from __future__ import annotations

import numpy as np
import pandas as pd


def observations(result) -> pd.DataFrame:
    """The rows behind a pooling result: group, x (the covariate, or 0 without one) and y."""
    g = result.data
    x = g.x if g.x is not None else np.zeros(len(g.y))
    return pd.DataFrame({"group": np.asarray(g.levels, dtype=object)[g.codes], "x": x, "y": g.y})


def choose_groups(result, how: str = "moved", count: int = 12, picked=(), seed: int = 1) -> list[str]:
    """A subset of groups: those that moved most under partial pooling, a random sample, or a pick.

    ``how`` is "moved", "random" or "picked"; "picked" keeps the user's order and only known
    groups (falling back to the groups that moved most when nothing valid is picked).
    """
    levels = list(result.data.levels)
    count = max(1, min(int(count), len(levels)))
    if how == "picked":
        known = set(levels)
        chosen = [str(p) for p in picked if str(p) in known]
        if chosen:
            return chosen
        how = "moved"
    if how == "random":
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(levels), size=count, replace=False))
        return [levels[i] for i in idx]
    table = result.table
    partial = table["method"].to_numpy(dtype=object) == "partial"
    moved = table["shrinkage"].to_numpy(float)[partial]
    moved = np.where(np.isnan(moved), np.inf, moved)  # groups with no own fit moved "all the way"
    order = np.argsort(-moved, kind="stable")[:count]
    return sorted((levels[i] for i in order), key=levels.index)


def one_coefficient_table(result, coefficient: str, table=None) -> pd.DataFrame:
    """For a model where only the intercept or only the slope varies: each group's own estimate
    of that coefficient (matched no pooling: the other coefficient shared by all groups) and the
    mixed model's, as rows (group, method "none" | "partial", intercept, slope, n, estimable)
    like a pooling table. ``table``: e.g. the centred table (intercepts at the covariate's mean).
    """
    table = result.table if table is None else table
    rows = table[table["method"].isin(["none", "partial"])]
    return rows[["group", "method", "intercept", "slope", "n", "estimable"]].reset_index(drop=True)
