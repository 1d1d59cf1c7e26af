"""Property tests: whatever text or data comes in, the engine answers with a fit or its own error.

* formula strings built from a small grammar of tokens (column names, numbers,
  operators, bars, parentheses, function names, junk characters) either fit or
  raise an LmmError (mostly FormulaError) -- never anything else, and never run code;
* small random data frames (1-40 rows, 1-6 groups, NaNs, infinities, constant
  columns) with a fixed formula either fit or raise an LmmError; a fit has a
  finite criterion and fitted + residuals = y.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmm_core import FormulaError, LmmError, lmer

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _frame(n: int = 24, groups: int = 4, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.arange(n) % groups
    x = rng.normal(size=n)
    return pd.DataFrame({
        "y": 2.0 + x + rng.normal(size=g.size) + 0.5 * g,
        "x": x,
        "z": rng.uniform(1.0, 3.0, size=n),
        "g": g,
        "h": np.where(np.arange(n) % 3 == 0, "a", "b"),
    })


DATA = _frame()

NAMES = ["y", "x", "z", "g", "h", "w", "Y", "x1"]
NUMBERS = ["0", "1", "2", "1.5", "-1", "1e3", "10"]
OPERATORS = ["~", "+", "-", "*", ":", "/", "^", "|", "||", "%in%", "~~", "="]
PARENS = ["(", ")", "(", ")", "((", "))"]
FUNCTIONS = ["log(", "exp(", "sqrt(", "os.system(", "__import__(", "eval(", "C(", "I(", "poly("]
JUNK = ["$", "@", "`", '"', "'", ";", "!", "[", "]", "{", "}", "#", "\\", ",", ".", "&", "<", ">", "?",
        "\n", "\t", "é", "∑", "\x00", "lambda", "import", "``", "`x`", "` `"]
TOKENS = st.sampled_from(NAMES + NUMBERS + OPERATORS + PARENS + FUNCTIONS + JUNK)
SPACES = st.sampled_from(["", " ", "  "])


@st.composite
def token_strings(draw, prefix: str = ""):
    parts = draw(st.lists(st.tuples(TOKENS, SPACES), min_size=0, max_size=14))
    return prefix + "".join(tok + sp for tok, sp in parts)


@st.composite
def structured_formulas(draw):
    """Near-miss formulas: a response, a tilde, terms and random-effect bars, sometimes damaged."""
    fixed = draw(st.lists(st.sampled_from(["x", "z", "h", "x:h", "x*h", "z:x", "log(z)", "sqrt(z)", "1", "0",
                                           "x + z", "(x + z)^2", "w", "-1"]), max_size=3))
    bars = draw(st.lists(st.tuples(st.sampled_from(["1", "x", "0 + x", "1 + x", "x - 1", "z", "h", "x + z"]),
                                   st.sampled_from(["|", "|", "||"]),
                                   st.sampled_from(["g", "g", "h", "g/h", "g:h", "x", "w"])),
                         min_size=draw(st.sampled_from([0, 1, 1, 1])), max_size=2))
    pieces = fixed + [f"({lhs} {bar} {grp})" for lhs, bar, grp in bars]
    text = draw(st.sampled_from(["y"] * 5 + ["z", "h", "log(y)", ""])) + " ~ " + " + ".join(pieces)
    if draw(st.integers(0, 2)) == 0:  # damage: insert, delete or replace something somewhere
        pos = draw(st.integers(0, len(text)))
        junk = draw(st.one_of(TOKENS, st.just("")))
        cut = draw(st.integers(0, 2))
        text = text[:pos] + junk + text[pos + cut:]
    return text


@pytest.fixture
def no_side_effects(monkeypatch):
    calls = []
    for name in ("system", "popen", "remove", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, lambda *a, _n=name, **k: calls.append((_n, a)))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append(("Popen", a)))
    return calls


def _fit_or_lmm_error(formula: str, data: pd.DataFrame):
    try:
        return lmer(formula, data)
    except LmmError:
        return None


@settings(max_examples=250, **SETTINGS)
@given(formula=st.one_of(token_strings(), token_strings(prefix="y ~ "), structured_formulas()))
def test_random_formula_strings_fit_or_raise_lmm_error(formula):
    fit = _fit_or_lmm_error(formula, DATA)
    if fit is not None:
        assert np.isfinite(fit.objective)
        assert np.allclose(fit.fitted.to_numpy() + fit.residuals.to_numpy(), fit.model.y)


def test_random_formula_strings_run_no_code(no_side_effects):
    """A sample of hostile strings through the same path, with os/subprocess watched."""
    for formula in ["y ~ os.system(x) + (1 | g)", "y ~ __import__('os').system('echo') + (1 | g)",
                    "y ~ eval(x) + (1 | g)", "y ~ x + (1 | g); import os", "`os.system`(y) ~ x + (1 | g)"]:
        with pytest.raises(FormulaError):
            lmer(formula, DATA)
    assert no_side_effects == []


@settings(max_examples=60, **SETTINGS)
@given(formula=structured_formulas())
def test_formula_errors_have_a_sensible_position(formula):
    try:
        lmer(formula, DATA)
    except FormulaError as exc:
        assert str(exc).strip()
        if exc.position is not None:
            assert 0 <= exc.position <= len(formula)
    except LmmError:
        pass


# -- random data --------------------------------------------------------------------
SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf])


@st.composite
def small_frames(draw):
    n = draw(st.integers(1, 40))
    n_groups = draw(st.integers(1, 6))
    finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)

    def column(constant_ok=True):
        if constant_ok and draw(st.integers(0, 5)) == 0:
            values = [draw(finite)] * n
        else:
            values = draw(st.lists(finite, min_size=n, max_size=n))
        values = np.asarray(values, dtype=float)
        n_bad = draw(st.integers(0, 3)) if draw(st.booleans()) else 0
        for _ in range(n_bad):
            values[draw(st.integers(0, n - 1))] = draw(SPECIAL)
        return values

    groups = draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    g = pd.Series(groups, dtype=object if draw(st.booleans()) else "int64")
    if draw(st.booleans()):
        g = g.map(lambda v: f"grp{v}")
    if n > 1 and draw(st.integers(0, 4)) == 0:
        g = g.astype(object)
        g.iloc[draw(st.integers(0, n - 1))] = None  # a missing group label
    return pd.DataFrame({"y": column(), "x": column(), "g": g})


FORMULAS = ["y ~ x + (1 | g)", "y ~ x + (x | g)", "y ~ 1 + (1 | g)"]


@settings(max_examples=120, **SETTINGS)
@given(data=small_frames(), formula=st.sampled_from(FORMULAS))
def test_random_small_data_fit_or_raise_lmm_error(data, formula):
    fit = _fit_or_lmm_error(formula, data)
    if fit is None:
        return
    assert np.isfinite(fit.objective)
    assert np.isfinite(fit.sigma)
    fitted, resid = fit.fitted, fit.residuals
    assert list(fitted.index) == list(resid.index)
    y = data.loc[fitted.index, "y"].to_numpy(float)
    assert np.allclose(fitted.to_numpy() + resid.to_numpy(), y, rtol=1e-9, atol=1e-9 * (1 + np.abs(y).max()))
    assert fit.nobs == len(fitted) <= len(data)
    text = fit.summary()
    assert "Random effects:" in text and "Number of obs:" in text


# -- invariance -------------------------------------------------------------------------
SLEEP = pd.read_csv(Path(__file__).resolve().parents[2] / "datasets" / "sleepstudy.csv")
SLEEP_RS = lmer("Reaction ~ Days + (Days | Subject)", SLEEP)


@settings(max_examples=25, **SETTINGS)
@given(log10_scale=st.floats(-2.0, 3.0), response_scale=st.sampled_from([1.0, 1e-3, 1e3]))
def test_units_of_covariate_and_response_do_not_change_the_fit(log10_scale, response_scale):
    """Rescaling Days by s and Reaction by r is the same model: lme4's fit, in other units.

    The REML criterion moves by 2 log(s) + 2 (n - p) log(r); estimates rescale; nothing else changes.
    """
    s, r = 10.0**log10_scale, response_scale
    data = SLEEP.assign(Days=SLEEP["Days"] * s, Reaction=SLEEP["Reaction"] * r)
    fit = lmer("Reaction ~ Days + (Days | Subject)", data)
    n, p = fit.nobs, len(fit.fixed_names)
    expected = SLEEP_RS.objective + 2 * np.log(s) + 2 * (n - p) * np.log(r)
    assert fit.objective == pytest.approx(expected, abs=1e-4)
    assert fit.fixef["Days"] * s / r == pytest.approx(SLEEP_RS.fixef["Days"], rel=1e-4)
    assert fit.varcorr[0].sd[1] * s / r == pytest.approx(SLEEP_RS.varcorr[0].sd[1], rel=1e-3)
