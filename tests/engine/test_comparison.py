"""Model comparison against R (lme4 1.1-31): AIC/BIC/logLik, anova() with ML refits; data checks.

The reference numbers in tests/data/comparison_reference.json were made with R 4.2.2 and
lme4 1.1-31 by the R script stored in the file itself (key "_script"); the simulated data
set of the seed material's exercise is stored there too (key "sim_data").
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmm_core import DataError, FormulaError, lmer
from lmm_core import comparison

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "comparison_reference.json").read_text())
SLEEP = {"ri": "Reaction ~ Days + (1 | Subject)", "rs_only": "Reaction ~ Days + (0 + Days | Subject)",
         "rs": "Reaction ~ Days + (Days | Subject)", "rs_uncorr": "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"}
SIM = {"ints_only": "y ~ x + (1 | group)", "uncorrelated": "y ~ x + (1 | group) + (0 + x | group)",
       "correlated": "y ~ x + (x | group)"}


@pytest.fixture(scope="module")
def sleep_fits(sleep):
    return {k: lmer(f, sleep) for k, f in SLEEP.items()}


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.DataFrame(REFERENCE["sim_data"]).astype({"group": str})


def check_anova(result, ref):
    t = result.table
    assert list(t["npar"]) == ref["npar"]
    for ours, theirs in [("AIC", "AIC"), ("BIC", "BIC"), ("logLik", "logLik"), ("deviance", "deviance")]:
        assert np.allclose(t[ours], ref[theirs], atol=2e-3), ours
    for ours, theirs in [("Chisq", "Chisq"), ("Df", "Df"), ("Pr(>Chisq)", "p")]:
        want = np.array([np.nan if v is None else v for v in ref[theirs]], float)
        assert np.allclose(t[ours], want, atol=2e-3, rtol=1e-3, equal_nan=True), ours


# -- the comparison table -----------------------------------------------------------------------
def test_comparison_table_matches_r_for_reml_fits(sleep_fits):
    table = comparison.comparison_table(list(sleep_fits.items())).set_index("Model")
    for key, ref in REFERENCE["sleep_fits"].items():
        row = table.loc[key]
        assert row["Fitted by"] == "REML" and row["npar"] == ref["npar"] and row["nobs"] == ref["nobs"]
        for col in ("logLik", "AIC", "BIC"):
            assert row[col] == pytest.approx(ref[col], abs=2e-3), (key, col)
        assert row["REML criterion"] == pytest.approx(ref["REMLcrit"], abs=2e-3)
        k, n = ref["npar"], ref["nobs"]
        assert row["AICc"] == pytest.approx(ref["AIC"] + 2 * k * (k + 1) / (n - k - 1), abs=2e-3)
        assert np.isnan(row["deviance"])
    assert table["ΔAIC"].min() == 0 and table["ΔAIC"].idxmin() == "rs_uncorr"


def test_comparison_table_of_ml_fits_has_the_deviance(sleep):
    ref = REFERENCE["sleep_ml_fits"]
    fits = [(k, lmer(SLEEP[k], sleep, reml=False)) for k in ref]
    table = comparison.comparison_table(fits).set_index("Model")
    for key, r in ref.items():
        assert table.loc[key, "deviance"] == pytest.approx(r["deviance_ml"], abs=2e-3)
        assert table.loc[key, "AIC"] == pytest.approx(r["AIC"], abs=2e-3)
        assert np.isnan(table.loc[key, "REML criterion"])


def test_aicc():
    assert comparison.aicc(-10.0, 3, 20) == pytest.approx(20 + 6 + 24 / 16)
    assert np.isnan(comparison.aicc(-10.0, 3, 4))


# -- anova ----------------------------------------------------------------------------------------
def test_anova_correlated_against_uncorrelated_slopes(sleep_fits):
    result = comparison.anova([("rs", sleep_fits["rs"]), ("rs_uncorr", sleep_fits["rs_uncorr"])])
    check_anova(result, REFERENCE["sleep_anova_rs_uncorr"])
    assert list(result.table["Model"]) == ["rs_uncorr", "rs"]  # ordered by npar, as R does
    assert result.refitted == ["rs", "rs_uncorr"]
    assert "Refitting model(s) with ML (instead of REML)" in result.refit_message
    # Same fixed effects: the message must not imply that REML could not compare them.
    assert result.same_fixed_effects and "refit = FALSE" in result.refit_message
    assert result.notes == []


def test_refit_message_with_different_fixed_effects(sleep):
    fits = [("no Days", lmer("Reaction ~ 1 + (1 | Subject)", sleep)),
            ("Days", lmer("Reaction ~ Days + (1 | Subject)", sleep))]
    result = comparison.anova(fits)
    assert not result.same_fixed_effects
    assert "comparable only between models with the same fixed effects" in result.refit_message
    assert "refit = FALSE" not in result.refit_message


def test_anova_of_three_models_in_any_order(sleep_fits):
    fits = [("rs", sleep_fits["rs"]), ("ri", sleep_fits["ri"]), ("rs_uncorr", sleep_fits["rs_uncorr"])]
    check_anova(comparison.anova(fits), REFERENCE["sleep_anova_three"])
    check_anova(comparison.anova([("ri", sleep_fits["ri"]), ("rs", sleep_fits["rs"])]), REFERENCE["sleep_anova_ri_rs"])


def test_anova_on_gpa(gpa):
    fits = [("ri", lmer("gpa ~ occasion + (1 | student)", gpa)),
            ("rs", lmer("gpa ~ occasion + (1 + occasion | student)", gpa))]
    check_anova(comparison.anova(fits), REFERENCE["gpa_anova_ri_rs"])


def test_the_seed_material_simulation_exercise(sim):
    """Intercepts only, uncorrelated slopes, correlated slopes: AIC and the LR test as in R."""
    fits = {k: lmer(f, sim) for k, f in SIM.items()}
    table = comparison.comparison_table(list(fits.items())).set_index("Model")
    for key, ref in REFERENCE["sim_fits"].items():
        assert table.loc[key, "AIC"] == pytest.approx(ref["AIC"], abs=2e-3), key
        assert table.loc[key, "logLik"] == pytest.approx(ref["logLik"], abs=2e-3), key
    check_anova(comparison.anova(list(fits.items())), REFERENCE["sim_anova"])


def test_ml_fits_are_not_refitted(sleep):
    fits = [(k, lmer(SLEEP[k], sleep, reml=False)) for k in ("ri", "rs")]
    result = comparison.anova(fits)
    assert result.refitted == [] and "none was refitted" in result.refit_message
    check_anova(result, REFERENCE["sleep_anova_ri_rs"])


def test_equal_npar_and_non_nested_models_are_flagged(sleep_fits):
    result = comparison.anova([("ri", sleep_fits["ri"]), ("rs_only", sleep_fits["rs_only"])])
    assert np.isnan(result.table["Pr(>Chisq)"].iloc[1]) and "not nested" in result.notes[0]
    assert comparison.looks_nested(sleep_fits["rs_uncorr"], sleep_fits["rs"])
    assert comparison.looks_nested(sleep_fits["ri"], sleep_fits["rs_uncorr"])
    assert not comparison.looks_nested(sleep_fits["rs"], sleep_fits["rs_uncorr"])


def test_non_nested_with_more_parameters(gpa):
    a = lmer("gpa ~ occasion + (1 | student)", gpa)
    b = lmer("gpa ~ sex + job + (1 | student)", gpa)
    result = comparison.anova([("a", a), ("b", b)])
    assert any("does not look nested" in n for n in result.notes)


def test_models_on_different_rows_cannot_be_compared(sleep):
    a = lmer(SLEEP["ri"], sleep)
    b = lmer(SLEEP["ri"], sleep.iloc[:170])
    with pytest.raises(DataError, match="same observations"):
        comparison.anova([("a", a), ("b", b)])
    with pytest.raises(DataError, match="two models"):
        comparison.anova([("a", a)])


def test_boundary_fits_get_a_note_about_the_p_value():
    rng = np.random.default_rng(20240521)
    g = np.repeat(np.arange(12), 8)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.5 * x + rng.normal(size=g.size)
    y = y - pd.Series(y).groupby(g).transform("mean").to_numpy() + y.mean()
    d = pd.DataFrame({"y": y, "x": x, "g": g})
    result = comparison.anova([("ri", lmer("y ~ x + (1 | g)", d)), ("rs", lmer("y ~ x + (x | g)", d))])
    assert any("boundary" in n for n in result.notes)


# -- Q-Q and caterpillar ---------------------------------------------------------------------------
def test_qq_points_use_r_ppoints():
    q = comparison.qq_points([3.0, 1.0, 2.0, np.nan])
    assert list(q["sample"]) == [1.0, 2.0, 3.0]
    # R: qnorm(ppoints(3)) = qnorm(c(0.1923077, 0.5, 0.8076923))
    assert np.allclose(q["theoretical"], [-0.8694238, 0.0, 0.8694238], atol=1e-6)
    big = comparison.qq_points(np.arange(20.0))
    assert big["theoretical"].iloc[0] == pytest.approx(-1.959964, abs=1e-5)  # (1 - 1/2) / 20 = 0.025


def test_caterpillar_table_ranks_within_each_term(sleep_fits):
    from lmm_core import tables

    cat = comparison.caterpillar_table(tables.random_effects_table(sleep_fits["rs"]))
    for _, part in cat.groupby("Term"):
        assert list(part["rank"]) == list(range(1, 19))
        assert part["Mode"].is_monotonic_increasing


# -- checks before a fit -----------------------------------------------------------------------------
def test_closest_names():
    columns = ["Reaction", "Days", "Subject"]
    assert comparison.closest_names("days", columns)[0] == "Days"
    assert comparison.closest_names("Subjekt", columns) == ["Subject"]
    assert comparison.closest_names("zzz", columns) == []


def test_random_slope_of_a_group_level_covariate_is_refused(sleep):
    d = sleep.assign(age=sleep["Subject"].cat.codes.astype(float) + 20.0)
    with pytest.raises(DataError) as e:
        comparison.checked_lmer("Reaction ~ Days + age + (age | Subject)", d)
    assert "'age' never changes within a Subject" in str(e.value) and "fixed effect" in str(e.value)
    fit = comparison.checked_lmer("Reaction ~ Days + age + (1 | Subject)", d)  # as a fixed effect it is fine
    assert "age" in fit.fixed_names


def test_checked_lmer_passes_syntax_errors_through_with_a_position(sleep):
    with pytest.raises(FormulaError) as e:
        comparison.checked_lmer("Reaction ~ Days + (1 | Subject", sleep)
    assert e.value.position is not None


def test_check_roles_reports_groups_and_rows(sleep):
    report = comparison.check_roles(sleep, "Reaction", "Subject", "Days")
    assert (report.n_rows, report.n_used, report.n_dropped, report.n_groups) == (180, 180, 0, 18)
