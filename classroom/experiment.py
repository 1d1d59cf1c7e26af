"""A class experiment: the same groups for everybody, a sample of one's own.

The instructor fixes the lab's settings and a class seed. The class seed decides the groups:
how many observations each has, their covariate values and their **true** intercepts and
slopes. Each student's own seed decides only the noise in their measurements. So every
student plays one research team measuring the same groups; their no-pooling and
partial-pooling estimates of one group, side by side, are the class's own sampling
distributions of the two estimators around that group's true value.

Pure numerics (the lab's simulation and pooling); no Streamlit, no database.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from lmm_core import LmmError
from teaching.pooling import compare_pooling
from teaching.simulate import PRESETS, SimulatedData, SimulationSettings, simulate  # noqa: F401 (PRESETS: pages)

from .store import MAX_GROUPS, ExperimentSpec

SETTING_FIELDS = tuple(f.name for f in fields(SimulationSettings) if f.name != "seed")


def spec_for(settings: SimulationSettings, class_seed: int, title: str = "Class experiment") -> ExperimentSpec:
    """The experiment to push: the settings (without their seed) and the class seed."""
    values = {name: getattr(settings, name) for name in SETTING_FIELDS}
    values = {k: (int(v) if isinstance(v, (bool, np.integer)) or k in ("n_groups", "n_per_group") else v)
              for k, v in values.items() if v is not None}
    if not 2 <= values["n_groups"] <= MAX_GROUPS:
        raise ValueError(f"A class experiment has 2 to {MAX_GROUPS} groups.")
    return ExperimentSpec(values, int(class_seed), title)


def settings_of(spec: ExperimentSpec) -> SimulationSettings:
    known = {k: v for k, v in spec.settings.items() if k in SETTING_FIELDS}
    return SimulationSettings(**known, seed=spec.class_seed)


def class_design(spec: ExperimentSpec) -> SimulatedData:
    """The groups everybody shares: sizes, covariate values and true coefficients (drawn
    from the class seed; its ``y`` is the class seed's own sample)."""
    return simulate(settings_of(spec))


@dataclass(frozen=True)
class OwnFit:
    """One student's sample and its fit. ``estimates``: method -> per group [intercept, slope]
    (None where no pooling has no line), in the design's group order, ready for the store."""

    seed: int
    random: str  # "both", or "intercept" when the sample cannot support a random slope
    estimates: dict
    data: pd.DataFrame
    result: object  # PoolingResult


def own_sample(design: SimulatedData, seed: int) -> pd.DataFrame:
    """The design's groups and covariate values with this student's own noise."""
    s = design.settings
    data = design.data
    truth = design.truth.reindex(data["group"].astype(str).to_numpy())
    rng = np.random.default_rng([int(seed), 0x5EED])
    noise = s.sd_residual * rng.standard_normal(len(data))
    y = truth["intercept"].to_numpy() + truth["slope"].to_numpy() * data["x"].to_numpy() + noise
    return data.assign(y=y)


def fit_own_sample(design: SimulatedData, seed: int, start=None) -> OwnFit:
    """Draw this student's sample and fit no and partial pooling (a random intercept and
    slope, or a random intercept only when the sample cannot support more)."""
    data = own_sample(design, seed)
    try:
        result, random = compare_pooling(data, "y", "group", "x", random="both", start=start), "both"
    except LmmError:
        result, random = compare_pooling(data, "y", "group", "x", random="intercept"), "intercept"
    order = [str(g) for g in design.truth.index]
    position = {str(level): i for i, level in enumerate(result.levels)}
    estimates = {}
    for method in ("none", "partial"):
        coef = result.coefficients[method]
        rows = []
        for group in order:
            pair = coef[position[group], :2]
            rows.append([float(pair[0]), float(pair[1])] if np.all(np.isfinite(pair)) else None)
        estimates[method] = rows
    return OwnFit(int(seed), random, estimates, data, result)


def group_sizes(design: SimulatedData) -> pd.Series:
    """Observations per group, in the design's group order."""
    counts = design.data["group"].astype(str).value_counts()
    return counts.reindex([str(g) for g in design.truth.index]).fillna(0).astype(int)


def with_settings(spec: ExperimentSpec, **changes) -> ExperimentSpec:
    return replace(spec, settings={**spec.settings, **changes})
