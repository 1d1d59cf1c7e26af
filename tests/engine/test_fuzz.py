"""Property tests: random formulas, random small tables and random files never crash anything.

Every outcome is either a result or the engine's own error type (LmmError: FormulaError,
DataError, FitError, UploadError). Bounded so that they run in CI (max_examples, no deadline).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasets import upload
from lmm_core import LmerFit, LmmError, comparison
from teaching.pooling import compare_pooling

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
NAMES = ["y", "x", "g", "h", "z", "t", "`odd name`", "Dayz", "1", "0", "2.5"]
TOKENS = NAMES + ["~", "+", "-", "*", ":", "/", "^", "(", ")", "|", "||", "log(", "sqrt(", "scale(",
                  "$", "'", "__import__", ".", ",", "``", "eval(", "\n", "é"]


@st.composite
def formulas(draw) -> str:
    """Half: free token soup; half: shaped like a mixed model, so many reach the fit."""
    if draw(st.booleans()):
        return " ".join(draw(st.lists(st.sampled_from(TOKENS), max_size=14)))
    names = ["y", "x", "g", "h", "z", "t", "`odd name`"]
    response = draw(st.sampled_from(["y"] * 6 + names + ["log(y)"]))
    fixed = draw(st.lists(st.sampled_from(["x", "t", "h", "z", "`odd name`", "x:h", "x*t", "0", "1", "sqrt(x)", "y"]),
                          min_size=1, max_size=3, unique=True))
    terms = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 0]))):
        expr = draw(st.sampled_from(["1", "x", "0 + x", "1 + t", "h", "x + t"]))
        bar = draw(st.sampled_from(["|", "||"]))
        group = draw(st.sampled_from(["g"] * 4 + ["h", "g/h", "g:h", "x", "z", "`odd name`"]))
        terms.append(f"({expr} {bar} {group})")
    return f"{response} ~ " + " + ".join(fixed + terms)


@st.composite
def small_frames(draw) -> pd.DataFrame:
    """Up to 40 rows; columns that may be numbers, text, constant, missing, infinite or unique."""
    n = draw(st.one_of(st.integers(1, 6), st.integers(12, 40)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_groups = draw(st.sampled_from([1, 2, 3, 5, 5, 5, n]))
    g = rng.integers(0, max(n_groups, 1), n)
    frame = pd.DataFrame({
        "y": rng.normal(size=n) + g * draw(st.sampled_from([0.0, 1.0])),
        "x": rng.normal(size=n) if draw(st.booleans()) else np.repeat(1.0, n),
        "g": g.astype(str) if draw(st.booleans()) else g,
        "h": rng.choice(["a", "b", "c"], n),
        "z": rng.normal(size=n),
        "t": (np.arange(n) % 4).astype(float),
        "odd name": rng.normal(size=n),
    })
    kind = draw(st.sampled_from(["plain"] * 5 + ["nan", "inf", "text", "all_nan", "const_y", "huge"]))
    column = draw(st.sampled_from(["y", "x", "z", "t"]))
    if kind == "nan":
        frame.loc[rng.random(n) < 0.3, column] = np.nan
    elif kind == "inf":
        frame.loc[0, column] = np.inf
    elif kind == "text":
        frame[column] = frame[column].astype(object)
        frame.loc[0, column] = "oops"
    elif kind == "all_nan":
        frame[column] = np.nan
    elif kind == "const_y":
        frame["y"] = 3.0
    elif kind == "huge":
        frame[column] = frame[column] * 1e200
    return frame


def is_result_or_engine_error(call):
    try:
        return call()
    except LmmError:
        return None


@SETTINGS
@given(formula=formulas(), frame=small_frames(), reml=st.booleans())
def test_random_formulas_on_random_data_give_a_fit_or_an_engine_error(formula, frame, reml):
    fit = is_result_or_engine_error(lambda: comparison.checked_lmer(formula, frame, reml=reml))
    if fit is not None:
        assert isinstance(fit, LmerFit)
        assert np.isfinite(fit.objective)
        fit.summary()  # printing never fails either
        comparison.comparison_table([("m", fit)])


@SETTINGS
@given(frame=small_frames(), first=formulas(), second=formulas())
def test_comparing_random_fits_gives_a_table_or_an_engine_error(frame, first, second):
    fits = [(name, f) for name, f in (("a", is_result_or_engine_error(lambda: comparison.checked_lmer(first, frame))),
                                      ("b", is_result_or_engine_error(lambda: comparison.checked_lmer(second, frame))))
            if f is not None]
    if len(fits) == 2:
        result = is_result_or_engine_error(lambda: comparison.anova(fits))
        assert result is None or len(result.table) == 2


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=3000),
                     st.text(alphabet=st.sampled_from(list("abxy019.,;\t|\n \"'-éNA")), max_size=400)
                     .map(lambda s: s.encode("utf-8"))))
def test_random_files_give_a_table_or_an_upload_error(raw):
    table = is_result_or_engine_error(lambda: upload.read_csv_bytes(raw, "fuzz.csv"))
    if table is None:
        return
    assert isinstance(table, upload.ParsedTable) and table.frame.shape[1] >= 3
    roles = upload.guess_roles(table.frame)
    user = is_result_or_engine_error(lambda: upload.make_user_data(table, *roles))
    if user is not None:
        for model in user.info.models:
            is_result_or_engine_error(lambda: comparison.checked_lmer(model.formula, user.frame()))


@SETTINGS
@given(frame=small_frames(), roles=st.permutations(["y", "x", "g", "h", "z", "t", "odd name"]))
def test_random_column_choices_give_user_data_or_an_engine_error_and_every_page_model_works(frame, roles):
    raw = frame.to_csv(index=False).encode()
    table = upload.read_csv_bytes(raw, "fuzz.csv")
    user = is_result_or_engine_error(lambda: upload.make_user_data(table, *roles[:3]))
    if user is None:
        return
    info = user.info
    for model in info.models:  # what ui.pooling_for computes for the other pages
        is_result_or_engine_error(lambda: compare_pooling(user.frame(), info.response, info.group,
                                                          covariate=info.covariate, random=model.random))


# -- the page itself ------------------------------------------------------------------------------------
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(formula=formulas())
def test_random_formulas_typed_into_the_page_never_crash_it(formula):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["data"] = "sleepstudy"
    at.run()
    at.switch_page("app_pages/your_model.py")
    at.run()
    at.text_input(key="ym_formula").set_value(formula).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.text_input(key="ym_formula").value == formula
    assert at.error or any(c.value.startswith("Linear mixed model fit") for c in at.code) or not formula.strip()
