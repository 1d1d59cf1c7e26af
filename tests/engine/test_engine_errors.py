"""Bad inputs end in the engine's own errors with helpful messages; formula features work as in lme4."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmm_core import DataError, FitError, FormulaError, LmmError, lmer

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / ".." / "shared" / "reference" / "lme4_reference.json"
RI = "Reaction ~ Days + (1 | Subject)"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pd.read_csv(REPO / "datasets" / "sleepstudy.csv")


@pytest.fixture(scope="module")
def gpa() -> pd.DataFrame:
    return pd.read_csv(REPO / "datasets" / "gpa.csv")


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REFERENCE.is_file():
        pytest.skip("lme4 reference file not found")
    return json.loads(REFERENCE.read_text())


def message(exc_info) -> str:
    return str(exc_info.value)


# -- errors -------------------------------------------------------------------------
def test_unknown_column_names_it_and_suggests_the_closest(sleep):
    with pytest.raises(FormulaError) as e:
        lmer("Reaction ~ Dayz + (1 | Subject)", sleep)
    assert "Dayz" in message(e) and "Did you mean 'Days'" in message(e)
    assert e.value.position == "Reaction ~ Dayz + (1 | Subject)".index("Dayz")


def test_unknown_grouping_column_suggests_the_closest(sleep):
    with pytest.raises(FormulaError) as e:
        lmer("Reaction ~ Days + (1 | subject)", sleep)
    assert "'Subject'" in message(e)
    assert e.value.position is not None


def test_unknown_column_in_the_response(sleep):
    with pytest.raises(FormulaError) as e:
        lmer("reaction ~ Days + (1 | Subject)", sleep)
    assert "Reaction" in message(e)


@pytest.mark.parametrize(
    "formula, where",
    [
        ("Reaction ~ Days + (1 | Subject", "("),  # never closed
        ("Reaction ~ Days + (1 | Subject))", ")"),  # closed twice
        ("Reaction ~ Days + + (1 | Subject)", "+ +"),
        ("Reaction ~ Days $ (1 | Subject)", "$"),
        ("Reaction Days + (1 | Subject)", None),  # no tilde
        ("Reaction ~ Days ~ (1 | Subject)", None),
        ("Reaction ~ Days + (1 | )", "|"),
        ("Reaction ~ Days + ( | Subject)", "|"),
        ("~ Days + (1 | Subject)", None),
        ("Reaction ~", None),
        ("", None),
    ],
)
def test_syntax_errors_are_formula_errors_with_a_position(sleep, formula, where):
    with pytest.raises(FormulaError) as e:
        lmer(formula, sleep)
    assert message(e).strip()
    if where is not None:
        assert e.value.position is not None
        assert 0 <= e.value.position <= len(formula)
        # the caret points at (or right next to) the offending part
        assert abs(e.value.position - formula.index(where)) <= 2, (e.value.position, formula)


def test_formula_error_message_shows_the_formula_and_a_caret(sleep):
    formula = "Reaction ~ Days + (1 | Subject"
    with pytest.raises(FormulaError) as e:
        lmer(formula, sleep)
    lines = message(e).splitlines()
    assert formula in lines[1]
    assert lines[2].index("^") == lines[1].index(formula) + e.value.position


def test_formula_that_is_not_text(sleep):
    with pytest.raises(FormulaError):
        lmer(None, sleep)  # type: ignore[arg-type]


def test_non_numeric_response(sleep):
    d = sleep.assign(label=np.where(sleep["Days"] > 4, "late", "early"))
    with pytest.raises(DataError) as e:
        lmer("label ~ Days + (1 | Subject)", d)
    assert "label" in message(e) and "numeric" in message(e)


def test_grouping_factor_with_one_level(sleep):
    d = sleep.assign(site="A")
    with pytest.raises(DataError) as e:
        lmer("Reaction ~ Days + (1 | site)", d)
    assert "site" in message(e) and "1 level" in message(e)


def test_grouping_factor_with_as_many_levels_as_rows(sleep):
    d = sleep.assign(row=np.arange(len(sleep)))
    with pytest.raises(DataError) as e:
        lmer("Reaction ~ Days + (1 | row)", d)
    assert "row" in message(e) and str(len(sleep)) in message(e)


def test_rows_with_missing_values_are_dropped_and_reported(sleep):
    d = sleep.copy()
    d.loc[[0, 17, 42], "Reaction"] = np.nan
    d["Days"] = d["Days"].astype(float)
    d.loc[99, "Days"] = np.nan
    fit = lmer(RI, d)
    assert fit.nobs == len(sleep) - 4
    assert any("4 row" in m and "missing" in m for m in fit.messages)
    assert "4 row" in fit.summary()
    same = lmer(RI, d.dropna())
    assert fit.objective == pytest.approx(same.objective, abs=1e-8)
    assert list(fit.fitted.index) == list(same.fitted.index)


def test_missing_values_in_an_unused_column_do_not_drop_rows(sleep):
    d = sleep.assign(notes=[np.nan] * len(sleep))
    fit = lmer(RI, d)
    assert fit.nobs == len(sleep)
    assert not any("missing" in m for m in fit.messages)


def test_rank_deficient_X_drops_the_duplicated_column_as_lme4_does(sleep):
    d = sleep.assign(Days2=sleep["Days"] * 1.0)
    fit = lmer("Reaction ~ Days + Days2 + (1 | Subject)", d)
    assert fit.fixed_names == ["(Intercept)", "Days"]
    assert any("Days2" in m and "rank deficient" in m for m in fit.messages)
    plain = lmer(RI, sleep)
    assert fit.objective == pytest.approx(plain.objective, abs=1e-6)
    assert np.allclose(fit.fixef.to_numpy(), plain.fixef.to_numpy(), rtol=1e-6)


def test_rank_deficient_X_linear_combination(sleep):
    d = sleep.assign(Weeks=sleep["Days"] / 7.0, Both=sleep["Days"] + 1.0)
    fit = lmer("Reaction ~ Days + Weeks + Both + (1 | Subject)", d)
    assert fit.fixed_names == ["(Intercept)", "Days"]
    dropped = [m for m in fit.messages if "rank deficient" in m]
    assert dropped and "Weeks" in dropped[0] and "Both" in dropped[0]


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values(sleep, value):
    d = sleep.astype({"Days": float})
    d.loc[5, "Days"] = value
    with pytest.raises(DataError) as e:
        lmer(RI, d)
    assert "Days" in message(e) and "infinite" in message(e)


def test_infinite_response(sleep):
    d = sleep.copy()
    d.loc[3, "Reaction"] = np.inf
    with pytest.raises(DataError) as e:
        lmer(RI, d)
    assert "Reaction" in message(e)


def test_transform_that_makes_values_non_finite(sleep):
    with pytest.raises(DataError) as e:
        lmer("Reaction ~ log(Days) + (1 | Subject)", sleep)  # log(0)
    assert "finite" in message(e)


def test_transforms_in_a_formula(sleep):
    """log/sqrt/exp are whitelisted transforms; R names the column after the call, e.g. 'log(Days + 1)'."""
    fit = lmer("Reaction ~ log(Days + 1) + (1 | Subject)", sleep)
    assert fit.fixed_names == ["(Intercept)", "log(Days + 1)"]
    fit = lmer("log(Reaction) ~ sqrt(Days) + (1 | Subject)", sleep)
    assert fit.fixed_names == ["(Intercept)", "sqrt(Days)"]
    assert np.allclose(fit.fitted + fit.residuals, np.log(sleep["Reaction"]))


def test_formula_errors_carry_no_terminal_colour_codes(sleep):
    for formula in ("Reaction ~ log(Days) + (1 | Subject)", "Reaction ~ Days + (1 | Subject"):
        try:
            lmer(formula, sleep)
        except LmmError as exc:
            assert "\x1b" not in str(exc) and "[1;31m" not in str(exc), str(exc)


def test_empty_data_frame(sleep):
    with pytest.raises(DataError) as e:
        lmer(RI, sleep.iloc[:0])
    assert "empty" in message(e)


def test_no_columns():
    with pytest.raises(LmmError):
        lmer(RI, pd.DataFrame())


def test_data_that_is_not_a_data_frame():
    with pytest.raises(DataError):
        lmer(RI, [[1, 2, 3]])  # type: ignore[arg-type]


def test_every_row_missing(sleep):
    d = sleep.assign(Reaction=np.nan)
    with pytest.raises(DataError) as e:
        lmer(RI, d)
    assert "Reaction" in message(e)


def test_too_many_random_effects_for_the_data(sleep):
    two_days = sleep[sleep["Days"] < 2]  # 36 rows, (Days | Subject) has 36 random effects
    with pytest.raises(DataError) as e:
        lmer("Reaction ~ Days + (Days | Subject)", two_days)
    assert "36" in message(e) and "random effects" in message(e)


def test_more_fixed_effects_than_rows():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "a": [1.0, 5.0, 2.0, 7.0], "b": [3.0, 1.0, 4.0, 1.0],
                      "c": [2.0, 7.0, 1.0, 8.0], "g": ["u", "u", "v", "v"]})
    with pytest.raises(LmmError):
        lmer("y ~ a * b * c + (1 | g)", d)


def test_no_random_effect_term(sleep):
    with pytest.raises(DataError) as e:
        lmer("Reaction ~ Days", sleep)
    assert "(1 | group)" in message(e)


def test_errors_are_value_errors_for_callers_that_catch_those(sleep):
    assert issubclass(LmmError, ValueError)
    for cls in (FormulaError, DataError, FitError):
        assert issubclass(cls, LmmError)


# -- nothing in a formula is ever run --------------------------------------------------
INJECTIONS = [
    "Reaction ~ __import__('os').system('x')",
    "Reaction ~ __import__(os).system(x) + (1 | Subject)",
    "Reaction ~ os.system(Days) + (1 | Subject)",
    "Reaction ~ eval(Days) + (1 | Subject)",
    "Reaction ~ exec(Days) + (1 | Subject)",
    "Reaction ~ open(Days) + (1 | Subject)",
    "Reaction ~ Days + (1 | Subject); import os",
    "Reaction ~ Days + (1 | Subject)\nimport os",
    "Reaction ~ Days.__class__ + (1 | Subject)",
    "Reaction ~ C(Days) + (1 | Subject)",
    "Reaction ~ I(Days) + (1 | Subject)",
    "Reaction ~ {Days} + (1 | Subject)",
    "Reaction ~ Days[0] + (1 | Subject)",
    "Reaction ~ Days + (1 | __import__)",
    "Reaction ~ Days + (os.system(Days) | Subject)",
    "os.system(Reaction) ~ Days + (1 | Subject)",
]


@pytest.mark.parametrize("formula", INJECTIONS)
def test_code_in_a_formula_is_a_formula_error_and_runs_nothing(sleep, formula, monkeypatch, tmp_path):
    calls = []
    for name in ("system", "popen", "execv", "execve", "remove", "unlink"):
        monkeypatch.setattr(os, name, lambda *a, _n=name, **k: calls.append((_n, a)))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append(("Popen", a)))
    with pytest.raises(FormulaError) as e:
        lmer(formula, sleep)
    assert message(e).strip()
    assert calls == []


def test_a_column_named_like_python_is_just_a_column(sleep):
    # names are data, never code: a column called "os.system" is an ordinary covariate
    d = sleep.assign(**{"os.system": sleep["Days"] * 2.0})
    fit = lmer("Reaction ~ os.system + (1 | Subject)", d)
    assert fit.fixed_names == ["(Intercept)", "os.system"]


# -- features ---------------------------------------------------------------------------
def test_double_bar_equals_two_uncorrelated_terms(sleep):
    a = lmer("Reaction ~ Days + (Days || Subject)", sleep)
    b = lmer("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", sleep)
    assert a.objective == pytest.approx(b.objective, abs=1e-6)
    assert np.allclose(a.fixef.to_numpy(), b.fixef.to_numpy(), rtol=1e-6)
    assert [v.group for v in a.varcorr] == [v.group for v in b.varcorr] == ["Subject", "Subject.1"]
    assert [v.terms for v in a.varcorr] == [["(Intercept)"], ["Days"]]
    assert [v.sd[0] for v in a.varcorr] == pytest.approx([v.sd[0] for v in b.varcorr], rel=1e-4)
    assert list(a.ranef) == ["Subject"] and list(a.ranef["Subject"].columns) == ["(Intercept)", "Days"]
    assert np.allclose(a.ranef["Subject"].to_numpy(), b.ranef["Subject"].to_numpy(), atol=1e-3)
    assert a.ngroups == {"Subject": 18}
    assert a.df == 5


@pytest.mark.parametrize("term", ["(Days - 1 | Subject)", "(0 + Days | Subject)", "(-1 + Days | Subject)"])
def test_no_intercept_inside_a_term(sleep, reference, term):
    fit = lmer(f"Reaction ~ Days + {term}", sleep)
    ref = reference["sleep_rs_only"]
    assert fit.objective == pytest.approx(ref["objective"], abs=1e-4)
    assert [v.terms for v in fit.varcorr] == [["Days"]]
    assert list(fit.coef["Subject"].columns) == ["(Intercept)", "Days"]


def test_no_intercept_in_the_fixed_part(sleep):
    fit = lmer("Reaction ~ 0 + Days + (1 | Subject)", sleep)
    assert fit.fixed_names == ["Days"]
    fit = lmer("Reaction ~ Days - 1 + (1 | Subject)", sleep)
    assert fit.fixed_names == ["Days"]


def test_categorical_covariates_are_named_as_r_names_them(gpa):
    fit = lmer("gpa ~ occasion + sex + job + (1 | student)", gpa)
    assert fit.fixed_names == ["(Intercept)", "occasion", "sexmale", "job2 hours", "job3 hours"]
    text = fit.summary("gpa")
    assert "job2 hours" in text and "sexmale" in text


def test_categorical_without_intercept_gets_every_level(gpa):
    fit = lmer("gpa ~ 0 + sex + occasion + (1 | student)", gpa)
    assert fit.fixed_names == ["sexfemale", "sexmale", "occasion"]


def test_interaction_colon_numeric_by_factor(gpa):
    fit = lmer("gpa ~ occasion:sex + (1 | student)", gpa)
    assert fit.fixed_names == ["(Intercept)", "occasion:sexfemale", "occasion:sexmale"]


def test_interaction_star_expands_to_main_effects_and_interaction(gpa):
    star = lmer("gpa ~ occasion * sex + (1 | student)", gpa)
    assert star.fixed_names == ["(Intercept)", "occasion", "sexmale", "occasion:sexmale"]
    longhand = lmer("gpa ~ occasion + sex + occasion:sex + (1 | student)", gpa)
    assert longhand.fixed_names == star.fixed_names
    assert star.objective == pytest.approx(longhand.objective, abs=1e-8)


def test_interaction_of_two_factors(gpa):
    fit = lmer("gpa ~ sex * job + (1 | student)", gpa)
    assert fit.fixed_names == [
        "(Intercept)", "sexmale", "job2 hours", "job3 hours", "sexmale:job2 hours", "sexmale:job3 hours",
    ]


def test_interaction_of_two_numbers(gpa):
    fit = lmer("gpa ~ occasion * highgpa + (1 | student)", gpa)
    assert fit.fixed_names == ["(Intercept)", "occasion", "highgpa", "occasion:highgpa"]


def test_nested_grouping(gpa):
    some = gpa[gpa["student"] <= 50]
    fit = lmer("gpa ~ occasion + (1 | student/job)", some)
    assert [v.group for v in fit.varcorr] == ["job:student", "student"]
    assert list(fit.ngroups) == ["job:student", "student"]
    assert fit.ngroups["student"] == 50
    assert "groups:  job:student, " in fit.summary()


@pytest.mark.parametrize("scale", [1 / 7, 24.0, 60.0, 1440.0], ids=["weeks", "hours", "x60", "minutes"])
def test_fit_does_not_depend_on_the_units_of_a_covariate(sleep, scale):
    """Days in weeks, hours or minutes is the same model: lme4 gives the same fit, rescaled.

    Scaling a column of X by s adds 2 log(s) to the REML criterion (through log|R_X|^2) and
    divides that column's coefficient and random-slope SD by s; nothing else changes.
    """
    base = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleep.assign(Days=sleep["Days"] * scale))
    assert fit.objective == pytest.approx(base.objective + 2 * np.log(scale), abs=1e-4)
    assert not fit.singular
    assert fit.fixef["Days"] * scale == pytest.approx(base.fixef["Days"], rel=1e-4)
    assert fit.varcorr[0].sd[1] * scale == pytest.approx(base.varcorr[0].sd[1], rel=1e-3)
    assert fit.varcorr[0].sd[0] == pytest.approx(base.varcorr[0].sd[0], rel=1e-3)
    assert fit.sigma == pytest.approx(base.sigma, rel=1e-4)


@pytest.fixture(scope="module")
def no_group_variance() -> pd.DataFrame:
    rng = np.random.default_rng(20240521)
    g = np.repeat(np.arange(12), 8)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.5 * x + rng.normal(size=g.size)  # groups add nothing
    # remove any chance group signal so the fit sits on the boundary for sure
    y = y - pd.Series(y).groupby(g).transform("mean").to_numpy() + y.mean()
    return pd.DataFrame({"y": y, "x": x, "g": g})


def test_boundary_fit_is_singular_and_the_summary_says_so(no_group_variance):
    fit = lmer("y ~ x + (1 | g)", no_group_variance)
    assert fit.singular
    assert fit.varcorr[0].sd[0] == pytest.approx(0.0, abs=1e-3)
    assert np.isfinite(fit.objective)
    text = fit.summary("sim")
    assert "boundary (singular) fit: see help('isSingular')" in text
    assert "optimizer (nloptwrap) convergence code: 0 (OK)" in text


def test_regular_fit_is_not_singular(sleep):
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert not fit.singular
    assert "isSingular" not in fit.summary()


def test_ml_versus_reml(sleep, reference):
    reml = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    ml = lmer("Reaction ~ Days + (Days | Subject)", sleep, reml=False)
    assert reml.reml and not ml.reml
    assert reml.objective == pytest.approx(reference["sleep_rs"]["objective"], abs=1e-4)
    assert ml.objective == pytest.approx(reference["sleep_rs_ml"]["objective"], abs=1e-4)
    # balanced data: same fixed effects, but ML shrinks the variance components
    assert np.allclose(reml.fixef.to_numpy(), ml.fixef.to_numpy(), rtol=1e-6)
    assert ml.varcorr[0].sd[0] < reml.varcorr[0].sd[0]
    assert ml.fixef_se["Days"] < reml.fixef_se["Days"]
    assert ml.aic == pytest.approx(reference["sleep_rs_ml"]["aic"], abs=1e-4)
    assert "Linear mixed model fit by REML ['lmerMod']" in reml.summary()
    text = ml.summary()
    assert "Linear mixed model fit by maximum likelihood  ['lmerMod']" in text
    assert "     AIC      BIC   logLik deviance df.resid " in text
    assert "  1763.9   1783.1   -876.0   1751.9      174 " in text


def test_predict_on_new_data(sleep):
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert np.allclose(fit.predict(sleep), fit.fitted.to_numpy())
    new = pd.DataFrame({"Days": [0.0, 5.0, 9.0, 3.0], "Subject": [308, 308, 999, 999]})
    pred = fit.predict(new)
    b = fit.coef["Subject"].loc["308"]
    assert pred[0] == pytest.approx(b["(Intercept)"])
    assert pred[1] == pytest.approx(b["(Intercept)"] + 5 * b["Days"])
    # an unseen subject gets the population prediction
    fe = fit.fixef
    assert pred[2] == pytest.approx(fe["(Intercept)"] + 9 * fe["Days"])
    assert pred[3] == pytest.approx(fe["(Intercept)"] + 3 * fe["Days"])
    population = fit.predict(new, include_random=False)
    assert np.allclose(population, fe["(Intercept)"] + new["Days"].to_numpy() * fe["Days"])


def test_predict_with_string_subject_ids(sleep):
    fit = lmer("Reaction ~ Days + (1 | Subject)", sleep)
    new = pd.DataFrame({"Days": [1.0, 1.0], "Subject": ["309", "new"]})
    pred = fit.predict(new)
    assert pred[0] == pytest.approx(fit.coef["Subject"].loc["309", "(Intercept)"] + fit.fixef["Days"])
    assert pred[1] == pytest.approx(fit.fixef["(Intercept)"] + fit.fixef["Days"])


def test_predict_with_categorical_covariate(gpa):
    fit = lmer("gpa ~ occasion + sex + (1 | student)", gpa)
    new = pd.DataFrame({"occasion": [2.0, 2.0], "sex": ["male", "female"], "student": [1, -5]})
    pred = fit.predict(new)
    fe = fit.fixef
    assert pred[0] == pytest.approx(
        fe["(Intercept)"] + 2 * fe["occasion"] + fe["sexmale"] + fit.ranef["student"].loc["1", "(Intercept)"]
    )
    assert pred[1] == pytest.approx(fe["(Intercept)"] + 2 * fe["occasion"])


def test_predict_names_missing_columns(sleep):
    fit = lmer(RI, sleep)
    with pytest.raises(DataError) as e:
        fit.predict(pd.DataFrame({"Subject": [308]}))
    assert "Days" in message(e)


def test_fitted_plus_residuals_is_the_response(sleep):
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleep)
    assert np.allclose(fit.fitted + fit.residuals, sleep["Reaction"])


def test_summary_of_sleepstudy_reads_like_lme4(sleep):
    text = lmer("Reaction ~ Days + (Days | Subject)", sleep).summary("sleepstudy")
    expected = [
        "Linear mixed model fit by REML ['lmerMod']",
        "Formula: Reaction ~ Days + (Days | Subject)",
        "   Data: sleepstudy",
        "",
        "REML criterion at convergence: 1743.6",
        "",
        "Scaled residuals: ",
        "    Min      1Q  Median      3Q     Max ",
        "-3.9536 -0.4634  0.0231  0.4634  5.1793 ",
        "",
        "Random effects:",
        " Groups   Name        Variance Std.Dev. Corr",
    ]
    lines = text.splitlines()
    assert lines[: len(expected)] == expected
    tail = [
        "Number of obs: 180, groups:  Subject, 18",
        "",
        "Fixed effects:",
        "            Estimate Std. Error t value",
        "(Intercept)  251.405      6.825  36.838",
        "Days          10.467      1.546   6.771",
        "",
        "Correlation of Fixed Effects:",
        "     (Intr)",
        "Days -0.138",
    ]
    assert lines[-len(tail):] == tail
    # the variance table: the engine's optimum may differ from lme4's in the 5th digit
    assert lines[12].startswith(" Subject  (Intercept) 612.")
    assert lines[13] == "          Days         35.07    5.922   0.07"
    assert lines[14] == " Residual             654.94   25.592       "


# -- the summary printout ------------------------------------------------------------------
def test_summary_of_iris_abbreviates_names_as_r_does():
    iris = pd.read_csv(REPO / "datasets" / "iris.csv")
    fit = lmer("Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length | Species)", iris)
    lines = fit.summary("iris").splitlines()
    # deparse() breaks the formula after 60 characters; cat(fill = TRUE) then wraps the line
    assert lines[1] == "Formula: Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length |  "
    assert lines[2] == "    Species)"
    assert "REML criterion at convergence: -66.7" in lines
    assert " Species  (Intercept)  0.24352  0.4935       " in lines
    assert "          Sepal.Length 0.01377  0.1173   0.40" in lines
    assert " Residual              0.03091  0.1758       " in lines
    assert "(Intercept)   0.20829    0.33520   0.621" in lines
    assert lines[-3:] == [
        "            (Intr) Spl.Wd",
        "Sepal.Width -0.116       ",
        "Sepal.Lngth  0.134 -0.279",
    ]


def test_summary_of_an_ml_fit(sleep):
    lines = lmer("Reaction ~ Days + (1 | Subject)", sleep, reml=False).summary("sleepstudy").splitlines()
    assert lines[0] == "Linear mixed model fit by maximum likelihood  ['lmerMod']"
    assert lines[4] == "     AIC      BIC   logLik deviance df.resid "
    assert not any(line.startswith("REML criterion") for line in lines)


def test_summary_lists_several_grouping_factors(gpa):
    some = gpa[gpa["student"] <= 50]
    text = lmer("gpa ~ occasion + (1 | student/job)", some).summary("gpa")
    assert "Number of obs: 300, groups:  job:student, " in text
    assert "; student, 50" in text
    assert " job:student (Intercept) " in text


def test_summary_shows_the_engines_messages(sleep):
    d = sleep.assign(Days2=sleep["Days"] * 2.0)
    d.loc[[1, 2], "Reaction"] = np.nan
    text = lmer("Reaction ~ Days + Days2 + (1 | Subject)", d).summary()
    assert "fit warnings:" in text
    assert "2 row(s) with missing values were dropped" in text
    assert "Days2" in text.split("fit warnings:")[1]
    assert "Data:" not in text  # no data name given


def test_summary_omits_the_correlation_matrix_beyond_12_fixed_effects(gpa):
    fit = lmer("gpa ~ occas * sex + highgpa + (1 | student)", gpa)
    assert len(fit.fixed_names) == 13
    text = fit.summary("gpa")
    assert "Correlation of Fixed Effects:" not in text
    assert "Correlation matrix not shown by default, as p = 13 > 12." in text
    assert "occasyear 3 semester 2:sexmale" in text


def test_summary_of_a_model_built_from_arrays(sleep):
    from lmm_core import Design, LinearMixedModel, TermData

    codes, levels = pd.factorize(sleep["Subject"])
    term = TermData(Z=np.ones((len(sleep), 1)), codes=codes, levels=[str(v) for v in levels],
                    names=["(Intercept)"], group="Subject")
    design = Design(y=sleep["Reaction"].to_numpy(float), X=np.column_stack([np.ones(len(sleep)), sleep["Days"]]),
                    fixed_names=["(Intercept)", "Days"], terms=[term])
    text = LinearMixedModel(design).fit().summary()
    assert "Formula: (model built from arrays)" in text
    assert "REML criterion at convergence: 1786.5" in text
