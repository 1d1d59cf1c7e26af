"""Simulated data with a known truth, and how well each way of pooling recovers it."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lmm_core import DataError
from teaching.pooling import compare_pooling
from teaching.simulate import PRESETS, SimulationSettings, evaluate_simulation, simulate


def test_default_settings_are_the_gpa_fit():
    s = SimulationSettings()
    assert (s.n_groups, s.n_per_group) == (200, 6)
    assert (s.fixed_intercept, s.fixed_slope, s.sd_intercept, s.sd_slope, s.correlation, s.sd_residual) == (
        2.599, 0.106, 0.213, 0.067, -0.1, 0.206)
    assert PRESETS["As fitted (GPA)"] == s


def test_equal_design():
    sim = simulate(SimulationSettings(n_groups=12, n_per_group=4, seed=3))
    data, truth = sim.data, sim.truth
    assert list(data.columns) == ["group", "x", "y"] and len(data) == 48
    assert all(isinstance(g, str) for g in data["group"])
    assert list(truth.index) == sorted(truth.index) == list(data["group"].cat.categories)
    assert (data.groupby("group", observed=True)["x"].apply(list) == [[0.0, 1.0, 2.0, 3.0]] * 12).all()
    assert list(truth.columns) == ["intercept", "slope"]


def test_reproducible_and_seed_dependent():
    a, b = simulate(SimulationSettings(seed=7)), simulate(SimulationSettings(seed=7))
    assert a.data.equals(b.data) and a.truth.equals(b.truth)
    assert not np.allclose(a.data["y"], simulate(SimulationSettings(seed=8)).data["y"])


def test_truth_has_the_requested_distribution():
    s = SimulationSettings(n_groups=20000, n_per_group=3, sd_intercept=0.5, sd_slope=0.2, correlation=0.6,
                           sd_residual=0.3, seed=11)
    sim = simulate(s)
    a, b = sim.truth["intercept"] - s.fixed_intercept, sim.truth["slope"] - s.fixed_slope
    assert a.std() == pytest.approx(0.5, rel=0.03)
    assert b.std() == pytest.approx(0.2, rel=0.03)
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(0.6, abs=0.03)
    line = sim.truth.loc[sim.data["group"], ["intercept", "slope"]].to_numpy()
    residual = sim.data["y"].to_numpy() - line[:, 0] - line[:, 1] * sim.data["x"].to_numpy()
    assert residual.std() == pytest.approx(0.3, rel=0.02)
    assert abs(residual.mean()) < 0.01


def test_unbalanced_and_dropout_sizes():
    sizes = simulate(replace(PRESETS["Only 3-4 observations"], seed=2)).data.groupby("group", observed=True).size()
    assert set(sizes) == {3, 4}
    wide = simulate(SimulationSettings(n_per_group=6, balance="unbalanced", seed=2))
    sizes = wide.data.groupby("group", observed=True).size()
    assert sizes.min() >= 1 and sizes.max() <= 11 and sizes.min() == 1
    drop = simulate(PRESETS["10 occasions with dropout"])
    per_group = drop.data.groupby("group", observed=True)["x"]
    assert per_group.min().eq(0).all()  # everyone starts at occasion 0 ...
    assert (per_group.max() + 1 == per_group.size()).all()  # ... and stays until dropping out
    assert per_group.size().between(2, 10).all()
    assert abs(len(drop.data) - 1200) < 120  # about the GPA study's amount of data


def test_normal_covariate():
    sim = simulate(SimulationSettings(covariate="normal", n_groups=100, seed=4))
    assert abs(sim.data["x"].mean()) < 0.15 and sim.data["x"].std() == pytest.approx(1, abs=0.1)


@pytest.mark.parametrize("bad", [
    dict(balance="sometimes"), dict(covariate="weather"), dict(n_groups=1), dict(sd_residual=0.0),
    dict(correlation=1.5), dict(max_per_group=2),
])
def test_bad_settings_raise(bad):
    with pytest.raises(DataError):
        SimulationSettings(**bad)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_runs(name):
    evaluation = evaluate_simulation(simulate(PRESETS[name]))
    errors = evaluation.errors.set_index("method")
    assert list(errors.index) == ["complete", "none", "partial"]
    assert np.isfinite(errors[["rmse_intercept", "rmse_slope"]].to_numpy()).all()
    # Partial pooling is never the worst of the three.
    slope = errors["rmse_slope"]
    assert slope["partial"] < max(slope["complete"], slope["none"])
    p = evaluation.parameters.set_index("parameter")
    assert p.loc["sd_residual", "estimated"] == pytest.approx(p.loc["sd_residual", "true"], rel=0.15)
    assert p.loc["fixed_slope", "estimated"] == pytest.approx(p.loc["fixed_slope", "true"], abs=0.02)
    assert ((evaluation.shrinkage_factor > 0) & (evaluation.shrinkage_factor <= 1)).all()


def test_errors_are_computed_against_the_truth():
    sim = simulate(SimulationSettings(n_groups=30, seed=9))
    evaluation = evaluate_simulation(sim)
    truth = sim.truth.loc[evaluation.result.levels].to_numpy()
    partial = evaluation.result.coefficients["partial"][:, :2]
    expected = np.sqrt(((partial - truth) ** 2).mean(axis=0))
    row = evaluation.errors.set_index("method").loc["partial"]
    np.testing.assert_allclose([row["rmse_intercept"], row["rmse_slope"]], expected)
    assert row["n_groups"] == 30


def test_random_intercept_only_has_no_slope_sd():
    evaluation = evaluate_simulation(simulate(SimulationSettings(n_groups=40, seed=2)), random="intercept")
    p = evaluation.parameters.set_index("parameter")["estimated"]
    assert np.isnan(p["sd_slope"]) and np.isnan(p["correlation"])
    assert list(evaluation.shrinkage_factor.index) == ["(Intercept)"]


def test_few_observations_partial_pooling_beats_no_pooling_on_average():
    few = replace(PRESETS["Only 3-4 observations"], n_groups=60)
    rmse = {"none": [], "partial": []}
    for seed in range(20):
        errors = evaluate_simulation(simulate(replace(few, seed=seed))).errors.set_index("method")
        for method in rmse:
            rmse[method].append(errors.loc[method, ["rmse_intercept", "rmse_slope"]].to_numpy(float))
    none, partial = np.mean(rmse["none"], axis=0), np.mean(rmse["partial"], axis=0)
    assert np.all(partial < none)
    assert partial[1] < 0.7 * none[1]  # the slopes, from 3-4 points, gain the most


@pytest.mark.parametrize("balance", ["equal", "unbalanced", "dropout"])
def test_the_simulations_own_coding_gives_the_fit_of_its_data(balance):
    # evaluate_simulation fits from the simulation's coded rows (SimulatedData.grouped), not from
    # its frame again: the result must be the one compare_pooling gives for the frame.
    sim = simulate(SimulationSettings(n_groups=25, n_per_group=4, balance=balance, seed=3))
    ours = evaluate_simulation(sim).result
    theirs = compare_pooling(sim.data, "y", "group", "x", random="both")
    assert ours.levels == theirs.levels
    assert ours.fit.objective == pytest.approx(theirs.fit.objective, rel=1e-12)
    for name in ("table", "lines"):  # lines are made when first read: the same table
        a, b = getattr(ours, name), getattr(theirs, name)
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        for column in a.columns:
            if a[column].dtype.kind == "f":
                np.testing.assert_allclose(a[column].to_numpy(), b[column].to_numpy(), rtol=1e-9, atol=1e-12)
            else:
                assert a[column].tolist() == b[column].tolist(), column
    # without the coding (e.g. a simulation made by hand), the frame is coded as before
    by_frame = evaluate_simulation(replace(sim, grouped=None)).result
    assert by_frame.fit.objective == pytest.approx(ours.fit.objective, rel=1e-12)
