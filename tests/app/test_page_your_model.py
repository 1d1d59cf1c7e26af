"""The 'Your model' page (AppTest): every example model, every kind of bad input, uploads, the comparison."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

import pytest
from streamlit.testing.v1 import AppTest

from test_pages import figures, no_exception
from test_pages import open_page as open_app_page

import datasets
from datasets import upload
from lmm_core import comparison, lmer, tables

PAGE = "app_pages/your_model.py"
REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "comparison_reference.json").read_text())
EXAMPLES = [(d, i, m.formula) for d in ("sleepstudy", "iris", "gpa") for i, m in enumerate(datasets.info(d).models)]
EXAMPLES += [("gpa", 2, "gpa ~ occasion + sex + job + (1 | student)"),
             ("gpa", 3, "gpa ~ occasion + sex + job + (1 + occasion | student)")]


def open_page(**params) -> AppTest:
    return no_exception(open_app_page(PAGE, **params))


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def as_read(markdown: str) -> str:
    """Markdown source as it reads on screen: the escapes of ui.plain removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def errors(at: AppTest) -> str:
    return "\n".join(as_read(e.value) for e in at.error)


def formula_box(at: AppTest):
    return at.text_input(key="ym_formula")


def fit(at: AppTest, formula: str) -> AppTest:
    formula_box(at).set_value(formula).run()
    ok(at)
    return at


def summary_text(at: AppTest) -> str:
    return next(c.value for c in at.text if c.value.startswith("Linear mixed model fit"))


def frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(f for f in frames(at) if column in f.columns)


def upload_file(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.file_uploader(key="ym_file").set_value((name, raw, "text/csv")).run()
    ok(at)
    return at


def use_columns(at: AppTest, response: str, group: str, covariate: str) -> AppTest:
    at.selectbox(key="ym_response").set_value(response)
    at.selectbox(key="ym_group").set_value(group)
    at.selectbox(key="ym_covariate").set_value(covariate)
    at.button(key="ym_use").click().run()
    ok(at)
    return at


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def problem_csv(sleep) -> bytes:
    """sleepstudy plus columns that break models in every way the issue lists."""
    d = sleep.copy()
    d["site"] = "A"
    d["row"] = np.arange(len(d))
    d["age"] = d["Subject"].cat.codes.astype(float) + 20  # constant within every subject
    d["empty"] = np.nan
    d["Reaction_na"] = d["Reaction"].where(~d.index.isin([0, 17, 42]))
    d["Days_inf"] = d["Days"].astype(float).where(d.index != 5, np.inf)
    d["Days2"] = d["Days"] * 2.0
    d["mood"] = np.where(d["Days"] > 4, "tired", "fresh")
    return csv(d)


def with_upload(raw: bytes, name: str = "problems.csv", roles=("Reaction", "Subject", "Days")) -> AppTest:
    at = open_page()
    upload_file(at, name, raw)
    use_columns(at, *roles)
    assert at.selectbox(key="data").value == upload.PREFIX + name
    return at


# -- the examples -------------------------------------------------------------------------------------
@pytest.mark.parametrize("data,index,formula", EXAMPLES, ids=[f"{d}-{f}" for d, _, f in EXAMPLES])
def test_each_example_is_one_click_away_and_matches_the_engine(data, index, formula):
    at = open_page()
    at.button(key=f"ym_ex_{data}_{index}").click().run()
    ok(at)
    assert at.selectbox(key="data").value == data
    assert formula_box(at).value == formula
    assert not at.error
    engine = lmer(formula, datasets.load(data))
    text = summary_text(at)
    assert text == engine.summary(data_name=data)
    fixed = frame_with(at, "Std. Error").set_index("Term")
    assert np.allclose(fixed["Estimate"], engine.fixef.to_numpy(), rtol=1e-8)
    assert np.allclose(fixed["lower 95%"], tables.fixed_effects_table(engine)["lower 95%"], rtol=1e-8)
    variance = frame_with(at, "Share of variance")
    assert variance["Share of variance"].sum() == pytest.approx(1.0)
    assert len(frame_with(at, "Cond. SD")) == sum(t.size for t in engine.ranef.values())
    assert len(figures(at)) == 3  # caterpillar, residuals, Q-Q
    assert len(at.get("download_button")) >= 4  # one CSV per table


def test_ml_switch_refits_and_says_so():
    at = open_page(data="sleepstudy")
    at.radio(key="ym_method").set_value("ML (maximum likelihood)").run()
    ok(at)
    assert summary_text(at).startswith("Linear mixed model fit by maximum likelihood")


def test_formula_from_a_link_is_kept():
    at = open_page(data="sleepstudy", ym_formula="Reaction ~ Days + (Days || Subject)")
    assert formula_box(at).value == "Reaction ~ Days + (Days || Subject)"
    assert "(Days || Subject)" in summary_text(at)


# -- bad formulas: message, nothing lost ---------------------------------------------------------------
@pytest.mark.parametrize("data,formula,words", [
    ("sleepstudy", "Reaction ~ Days + (1 | Subject", ["never closed", "character 19"]),
    ("sleepstudy", "Reaction ~ Days + + (1 | Subject)", ["cannot be read"]),
    ("sleepstudy", "Reaction ~ Dayz + (1 | Subject)", ["Dayz", "Did you mean 'Days'"]),
    ("sleepstudy", "Reaction ~ Days + (1 | subject)", ["Did you mean 'Subject'"]),
    ("sleepstudy", "Reaction ~ __import__('os').system('x') + (1 | Subject)", ["cannot be read"]),
    ("sleepstudy", "Reaction ~ Days", ["no random-effects term"]),
    ("gpa", "sex ~ occasion + (1 | student)", ["must be numeric", "sex"]),
])
def test_bad_formula_gives_a_plain_error_and_keeps_the_last_good_result(data, formula, words):
    at = open_page(data=data)
    good = formula_box(at).value
    fit(at, formula)
    message = errors(at)
    for word in words:
        assert word in message, message
    assert formula_box(at).value == formula  # what the student typed stays in the box
    assert any("last model that worked" in m.value for m in at.markdown)
    assert f"Formula: {good}" in summary_text(at)


def test_syntax_error_points_at_the_position():
    at = fit(open_page(data="sleepstudy"), "Reaction ~ Days $ (1 | Subject)")
    caret = next(c.value for c in at.text if c.value.endswith("^"))
    line, mark = caret.splitlines()
    assert line == "Reaction ~ Days $ (1 | Subject)" and mark.index("^") == line.index("$")


@pytest.mark.parametrize("formula,words", [
    ("Reaction ~ Days + (1 | site)", ["only 1 level", "site"]),
    ("Reaction ~ Days + (1 | row)", ["as many levels (180)", "repeats"]),
    ("Reaction ~ Days + age + (age | Subject)", ["never changes within a Subject"]),
    ("Reaction ~ empty + (1 | Subject)", ["'empty'", "no values"]),
    ("Reaction ~ Days_inf + (1 | Subject)", ["infinite"]),
    ("mood ~ Days + (1 | Subject)", ["must be numeric", "fresh"]),
    ("Reaction ~ Dayz + (1 | Subject)", ["Did you mean 'Days'"]),
])
def test_bad_data_in_a_formula_on_uploaded_data(problem_csv, formula, words):
    at = with_upload(problem_csv)
    fit(at, formula)
    message = errors(at)
    for word in words:
        assert word in message, message
    assert formula_box(at).value == formula
    assert any("last model that worked" in m.value for m in at.markdown)


def test_missing_values_are_dropped_with_a_count(problem_csv):
    at = fit(with_upload(problem_csv), "Reaction_na ~ Days + (1 | Subject)")
    assert not at.error
    assert any("3 row(s) with missing values were dropped" in as_read(i.value) for i in at.info)
    assert "Number of obs: 177" in summary_text(at)


def test_rank_deficient_design_is_a_result_with_a_warning(problem_csv):
    at = fit(with_upload(problem_csv), "Reaction ~ Days + Days2 + (1 | Subject)")
    assert not at.error
    assert any("rank deficient" in as_read(w.value) and "Days2" in as_read(w.value) for w in at.warning)
    assert list(frame_with(at, "Std. Error")["Term"]) == ["(Intercept)", "Days"]


def test_more_random_effects_than_data(sleep):
    at = with_upload(csv(sleep[sleep["Days"] < 2]), "two days.csv")
    fit(at, "Reaction ~ Days + (Days | Subject)")
    assert "more random-effect parameters than the data can support" in errors(at)


def test_boundary_fit_is_a_result_with_an_explanation():
    rng = np.random.default_rng(20240521)
    g = np.repeat(np.arange(12), 8)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.5 * x + rng.normal(size=g.size)
    y = y - pd.Series(y).groupby(g).transform("mean").to_numpy() + y.mean()
    at = with_upload(csv(pd.DataFrame({"y": y, "x": x, "g": g})), "flat.csv", ("y", "g", "x"))
    assert not at.error
    assert any("Boundary (singular) fit" in w.value for w in at.warning)
    assert "boundary (singular) fit" in summary_text(at)


# -- uploads --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,raw,words", [
    ("empty.csv", b"", ["empty"]),
    ("book.xlsx", b"PK\x03\x04" + b"\x00" * 100, ["Excel", "CSV"]),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, ["image"]),
    ("blob.csv", bytes(range(256)) * 8, ["binary"]),
    ("huge.csv", b"y,x,g\n" + b"1.0,2.0,a\n" * (upload.MAX_BYTES // 10 + 1), ["5.0 MB", "limit"]),
    ("long.csv", b"y,x,g\n" + b"1,2,a\n" * (upload.MAX_ROWS + 1), ["100,000 rows"]),
    ("one column.csv", b"value\n1\n2\n3\n", ["one column"]),
    ("ragged.csv", b"y,x,g\n1,2,a\n3,4,b,5,6\n", ["same number"]),
    ("header only.csv", b"y,x,g\n", ["no data rows"]),
])
def test_bad_uploads_are_explained_and_nothing_is_lost(sleep, name, raw, words):
    at = with_upload(csv(sleep), "good.csv")
    upload_file(at, name, raw)
    message = errors(at)
    for word in words:
        assert word in message, message
    assert at.selectbox(key="data").value == upload.PREFIX + "good.csv"  # the good data stay in use
    assert summary_text(at)  # and the fit is still shown


@pytest.mark.parametrize("group,covariate,words", [
    ("site", "Days", ["only one value"]),
    ("row", "Days", ["different value in every row"]),
    ("Subject", "age", ["never changes within a Subject"]),
])
def test_bad_column_choices_are_explained(problem_csv, group, covariate, words):
    at = open_page(data="iris")
    upload_file(at, "problems.csv", problem_csv)
    use_columns(at, "Reaction", group, covariate)
    for word in words:
        assert word in errors(at)
    assert at.selectbox(key="data").value == "iris"


def test_wrong_encoding_and_semicolons_are_read_with_notes(sleep):
    odd = sleep.rename(columns={"Reaction": "Reaktion (ms)", "Days": "Tage.ü", "Subject": "Person"})
    raw = odd.to_csv(index=False, sep=";", decimal=",").encode("cp1252")
    at = open_page()
    upload_file(at, "schlaf.csv", raw)
    notes = " ".join(as_read(i.value) for i in at.info)
    assert "Windows-1252" in notes and "decimal comma" in notes and "backticks" in notes
    use_columns(at, "Reaktion (ms)", "Person", "Tage.ü")
    assert formula_box(at).value == "`Reaktion (ms)` ~ Tage.ü + (1 | Person)"
    engine = lmer("Reaction ~ Days + (1 | Subject)", sleep)
    assert np.allclose(frame_with(at, "Std. Error")["Estimate"], engine.fixef.to_numpy(), rtol=1e-6)


def test_pasted_data_work_on_every_page(sleep):
    at = open_page()
    at.radio(key="ym_source").set_value("Paste a table").run()
    at.text_area(key="ym_paste").set_value(sleep.to_csv(index=False, sep="\t")).run()
    at.button(key="ym_read_paste").click().run()
    ok(at)
    use_columns(at, "Reaction", "Subject", "Days")
    name = upload.PREFIX + "pasted table"
    assert at.selectbox(key="data").value == name
    for model in datasets.info("sleepstudy").models:
        at.selectbox(key="model").set_value(model.label).run()
        for page in ("app_pages/three_ways.py", "app_pages/shrinkage_map.py", PAGE):
            at.switch_page(page)
            at.run()
            ok(at)
            assert at.selectbox(key="data").value == name
    assert "Formula: Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)" in summary_text(at)


def test_forgetting_the_data_goes_back_to_a_built_in_set(sleep):
    at = with_upload(csv(sleep), "mine.csv")
    at.button(key="ym_forget").click().run()
    ok(at)
    assert at.selectbox(key="data").value == "sleepstudy"
    assert upload.PREFIX + "mine.csv" not in at.selectbox(key="data").options


# -- comparison ----------------------------------------------------------------------------------------
def test_comparison_table_matches_the_engine_and_r(sleep):
    at = open_page(data="sleepstudy")
    at.button(key="ym_add_examples").click().run()
    ok(at)
    shown = frame_with(at, "AICc")
    formulas = [m.formula for m in datasets.info("sleepstudy").models]
    assert list(shown["Formula"]) == formulas
    engine = comparison.comparison_table([(f"M{i}", lmer(f, sleep)) for i, f in enumerate(formulas, start=1)])
    for col in ("npar", "logLik", "AIC", "AICc", "BIC", "ΔAIC"):
        assert np.allclose(shown[col].astype(float), engine[col].astype(float), rtol=1e-9), col
    ref = REFERENCE["sleep_fits"]
    assert np.allclose(shown["AIC"], [ref[k]["AIC"] for k in ("ri", "rs_only", "rs", "rs_uncorr")], atol=2e-3)
    # correlated against uncorrelated random slopes (the last two added, the default), refitted by ML
    assert at.multiselect(key="ym_lrt_models").value == ["M3", "M4"]
    assert any("Refitting model(s) with ML (instead of REML): M3, M4" in as_read(i.value) for i in at.info)
    lrt = frame_with(at, "Pr(>Chisq)")
    want = REFERENCE["sleep_anova_rs_uncorr"]
    assert list(lrt["Model"]) == ["M4", "M3"]
    assert lrt["Chisq"].iloc[1] == pytest.approx(want["Chisq"][1], abs=2e-3)
    assert lrt["Pr(>Chisq)"].iloc[1] == pytest.approx(want["p"][1], abs=2e-3)
    at.multiselect(key="ym_lrt_models").set_value(["M1", "M3", "M4"]).run()
    ok(at)
    lrt = frame_with(at, "Pr(>Chisq)")
    three = REFERENCE["sleep_anova_three"]
    assert np.allclose(lrt["Chisq"].iloc[1:], three["Chisq"][1:], atol=2e-3)


def test_add_one_fit_and_clear():
    at = open_page(data="sleepstudy")
    at.button(key="ym_add").click().run()
    fit(at, "Reaction ~ Days + (Days | Subject)")
    at.button(key="ym_add").click().run()
    ok(at)
    assert len(frame_with(at, "AICc")) == 2
    at.button(key="ym_clear").click().run()
    assert any("No fits in the comparison" in as_read(i.value) for i in at.info)


def test_simulated_exercise(sleep):
    at = open_page()
    at.radio(key="ym_source").set_value("Simulated exercise").run()
    at.button(key="ym_simulate").click().run()
    ok(at)
    assert at.selectbox(key="data").value.startswith(upload.PREFIX + "simulated random slopes")
    at.button(key="ym_add_examples").click().run()
    ok(at)
    shown = frame_with(at, "AICc")
    assert len(shown) == 4 and shown["Formula"].iloc[0] == "y ~ x + (1 | group)"


def test_a_link_to_uploaded_data_in_a_new_session_falls_back_to_a_built_in_set():
    at = open_page(data=upload.PREFIX + "gone.csv")
    assert at.selectbox(key="data").value == "sleepstudy"
    assert not at.error
