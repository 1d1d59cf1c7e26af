"""Hostile and unlucky input to the engine: every request is refused by a limit before the work
starts, with a message that names the limit and says what to do; legitimate models stay inside.

Time and memory of each hostile case are measured and printed (run with -s to see them), never
asserted: what is asserted is the refusal. The README's "Limits and safety" table has the numbers.
"""
from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import datasets
from lmm_core import (DataError, FitError, FormulaError, LimitError, LmmError, build_design, csvread, limits,
                      lmer, normalize_formula, parse_formula)

REPO = Path(__file__).resolve().parents[2]
SLEEP_COLUMNS = ["Reaction", "Days", "Subject"]


def measured(action):
    """Run ``action``; return (its exception or None, seconds, peak MB of Python allocations)."""
    tracemalloc.start()
    start = time.perf_counter()
    error = None
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
        error = exc
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return error, seconds, peak


def refused(action, limit: str, *words: str) -> LimitError:
    error, seconds, peak = measured(action)
    print(f"\n[{limit}] refused in {seconds * 1000:.1f} ms, peak {peak:.1f} MB")
    assert isinstance(error, LimitError), f"expected a LimitError, got {error!r}"
    assert error.limit == limit
    text = str(error)
    for word in words:
        assert word in text, text
    assert "\n" not in text and "Traceback" not in text
    return error


def wide_frame(n: int = 300, columns: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, columns)), columns=[f"c{k}" for k in range(columns)])
    frame["g"] = np.repeat(np.arange(n // 10), 10).astype(str)
    frame["y"] = rng.normal(size=n)
    return frame


# -- formulas ------------------------------------------------------------------------------------
def test_a_huge_power_is_refused_before_any_expansion(sleep):
    error = refused(lambda: lmer("Reaction ~ (Days)^30000000 + (1|Subject)", sleep), "power", "30000000", "^2")
    assert str(limits.DEFAULT.power) in str(error)


@pytest.mark.parametrize("power", ["1e9", "99999999999999999999999"])
def test_powers_written_as_large_numbers_are_refused(sleep, power):
    refused(lambda: parse_formula(f"Reaction ~ (Days)^{power} + (1|Subject)", SLEEP_COLUMNS), "power")


@pytest.mark.parametrize("power", ["0", "2.5"])
def test_a_power_must_be_a_whole_number_of_at_least_one(power):
    with pytest.raises(FormulaError, match="whole number"):
        parse_formula(f"Reaction ~ (Days)^{power} + (1|Subject)", SLEEP_COLUMNS)


def test_a_wide_expansion_is_refused_before_formulaic_sees_it():
    frame = wide_frame()
    terms = " + ".join(frame.columns[:12])
    refused(lambda: lmer(f"y ~ ({terms})^8 + (1|g)", frame), "terms", "terms", "a + b + a:b")
    refused(lambda: lmer(f"y ~ {' * '.join(frame.columns[:12])} + (1|g)", frame), "terms")
    refused(lambda: lmer(f"y ~ c0 + ({' * '.join(frame.columns[:12])} | g)", frame), "terms")


def test_small_powers_give_the_products_r_gives():
    parsed = parse_formula("y ~ (a + b + c)^2 + (1 | g)", list("abcgy"))
    assert sorted(map(sorted, parsed.fixed_terms)) == [["a"], ["a", "b"], ["a", "c"], ["b"], ["b", "c"], ["c"]]
    assert len(parse_formula("y ~ (a + b)^8 + (1 | g)", list("abgy")).fixed_terms) == 3  # higher powers add nothing


def test_deeply_nested_parentheses_are_refused_not_a_recursion_error(sleep):
    formula = "Reaction ~ " + "(" * 900 + "Days" + ")" * 900 + " + (1|Subject)"
    refused(lambda: lmer(formula, sleep), "paren_depth", "nested")
    ok = "Reaction ~ " + "(" * 10 + "Days" + ")" * 10 + " + (1|Subject)"
    assert lmer(ok, sleep).fixef is not None


def test_a_very_long_formula_is_refused():
    refused(lambda: parse_formula("y ~ " + " + ".join(["x"] * 2000), ["x", "y"]), "formula_chars", "characters")


def test_formula_spacing_is_normalised_for_cache_keys():
    variants = ["Reaction~Days+(1|Subject)", "Reaction  ~ Days + ( 1 | Subject )", " Reaction ~ Days +(1| Subject)\n"]
    assert {normalize_formula(v) for v in variants} == {"Reaction ~ Days + (1 | Subject)"}
    assert normalize_formula("y ~ `a  b` + (1 | g)") == "y ~ `a  b` + (1 | g)"  # spaces inside a name matter
    assert normalize_formula("y ~ x + (1 | a/b)") == "y ~ x + (1 | a/b)"


# -- designs ---------------------------------------------------------------------------------------
def test_a_text_column_with_many_levels_as_a_fixed_effect_is_refused(sleep):
    data = sleep.assign(code=[f"id{k}" for k in range(len(sleep))] * 1)
    big = pd.concat([data] * 60, ignore_index=True)
    big["code"] = [f"id{k}" for k in range(len(big))]  # 10,800 distinct values
    error = refused(lambda: lmer("Reaction ~ Days + code + (1|Subject)", big), "factor_levels", "(1 | code)")
    assert "10,800" in str(error)


def test_many_fixed_columns_are_refused(sleep):
    data = sleep.assign(a=np.arange(180) % 20, b=np.arange(180) % 18)
    data["a"], data["b"] = data["a"].astype(str), data["b"].astype(str)
    refused(lambda: lmer("Reaction ~ Days + a:b + (1|Subject)", data), "fixed_columns", "columns")


def test_a_large_x_is_refused_by_its_cells():
    frame = wide_frame(n=150_000, columns=40)
    formula = "y ~ " + " + ".join(f"c{k}" for k in range(40)) + " + (1|g)"
    with limits.use(limits.APP):
        refused(lambda: build_design(formula, frame), "x_cells", "rows", "sample")
    assert build_design(formula, frame).X.shape == (150_000, 41)  # within the engine's own limit


def test_a_text_column_before_the_bar_is_refused_by_random_columns(sleep):
    data = sleep.assign(day=sleep["Days"].astype(str).radd("d"))
    big = pd.concat([data] * 10, ignore_index=True)
    big["day"] = [f"d{k % 120}" for k in range(len(big))]
    refused(lambda: lmer("Reaction ~ Days + (day | Subject)", big), "random_columns", "before the bar")


def test_crossed_factors_with_too_many_levels_are_refused_before_the_dense_matrix():
    rng = np.random.default_rng(3)
    n = 30_000
    frame = pd.DataFrame({"y": rng.normal(size=n), "a": rng.integers(0, 7000, n).astype(str),
                          "b": rng.integers(0, 7000, n).astype(str)})
    refused(lambda: lmer("y ~ 1 + (1|a) + (1|b)", frame), "dense_random_effects", "dense", "fewer levels")


def test_the_fit_stops_at_its_wall_clock_budget(sleep):
    tight = dataclasses.replace(limits.APP, fit_seconds=0.0)
    refused(lambda: lmer("Reaction ~ Days + (Days|Subject)", sleep, limit=tight), "fit_seconds", "stopped")
    assert lmer("Reaction ~ Days + (Days|Subject)", sleep, limit=limits.APP).converged


def test_limits_apply_in_a_block_and_only_there(sleep):
    strict = dataclasses.replace(limits.DEFAULT, power=1)
    with limits.use(strict):
        assert limits.current() is strict
        refused(lambda: parse_formula("Reaction ~ (Days)^2 + (1|Subject)", SLEEP_COLUMNS), "power")
    assert limits.current() is limits.DEFAULT
    parse_formula("Reaction ~ (Days)^2 + (1|Subject)", SLEEP_COLUMNS)


# -- legitimate models stay far inside -------------------------------------------------------------
def reference_models():
    with open(REPO / "tests" / "data" / "lme4_extra" / "models.csv") as handle:
        extra = list(csv.DictReader(handle))
    material = Path("/work/shared/reference/models.csv")
    rows = []
    if material.exists():
        with open(material) as handle:
            rows += [(r["data"], r["formula"]) for r in csv.DictReader(handle)]
    for d in datasets.names():
        rows += [(d + ".csv", m.formula) for m in datasets.info(d).models]
    rows += [("gpa.csv", "gpa ~ occasion + sex + job + (1 + occasion | student)")]
    return rows, extra


@pytest.mark.parametrize("data_file,formula", reference_models()[0])
def test_every_model_of_the_material_fits_within_the_app_limits(data_file, formula):
    data = datasets.load(data_file.removesuffix(".csv"))
    fit = lmer(formula, data, limit=limits.APP)
    assert np.isfinite(fit.objective)


def test_a_course_sized_crossed_model_is_inside_the_limits():
    """InstEval-sized: 73,000 rows, students and lecturers crossed (a few thousand levels) as random
    effects, a 14-level department as a fixed effect. The design is allowed; the dense crossed
    fit itself is bounded by dense_random_effects (engine) and the fit clock (app)."""
    rng = np.random.default_rng(7)
    n = 73_000
    frame = pd.DataFrame({"y": rng.normal(size=n), "s": rng.integers(0, 2900, n).astype(str),
                          "d": rng.integers(0, 1100, n).astype(str), "dept": rng.integers(0, 14, n).astype(str),
                          "service": rng.integers(0, 2, n).astype(str)})
    design = build_design("y ~ service * dept + (1|s) + (1|d)", frame, limits.APP)
    assert design.X.shape[0] == n and design.X.shape[1] <= 28
    dense = sorted(t.n_levels for t in design.terms)[0]  # the factors after the largest form the dense block
    assert dense < limits.APP.dense_random_effects
    one = build_design("y ~ service + dept + (1|s)", frame, limits.APP)  # one factor: no dense matrix
    assert one.terms[0].n_levels > 2000


def test_a_100k_row_upload_sized_model_is_inside_the_app_limits():
    rng = np.random.default_rng(8)
    n = 100_000
    frame = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "x2": rng.normal(size=n),
                          "g": rng.integers(0, 3000, n).astype(str)})
    fit = lmer("y ~ x + x2 + (x | g)", frame, limit=limits.APP)
    assert fit.nobs == n


# -- clear messages ----------------------------------------------------------------------------------
def test_a_constant_response_is_said_in_plain_words(sleep):
    with pytest.raises(LmmError, match="same value") as e:
        lmer("y ~ Days + (1|Subject)", sleep.assign(y=3.0))
    assert "rescale" not in str(e.value)


def test_a_perfect_fit_is_said_in_plain_words(sleep):
    with pytest.raises(LmmError, match="perfect fit") as e:
        lmer("y ~ Days + (1|Subject)", sleep.assign(y=2.0 * sleep["Days"] + 1.0))
    assert "rescale" not in str(e.value)


# -- the one CSV reader -------------------------------------------------------------------------------
def sleep_text(sep: str = ",") -> str:
    return datasets.load("sleepstudy").to_csv(index=False, sep=sep)


@pytest.mark.parametrize("raw,words", [
    (b"PK\x03\x04rest", ["Excel"]),
    (b"\x00\x01\x02binary" * 50, ["binary"]),
    (b"", ["empty"]),
    (b"a b c\n1 2 3\n", ["one column"]),
])
def test_reader_names_what_is_wrong(raw, words):
    with pytest.raises(csvread.CsvError) as e:
        csvread.read_table(raw)
    for word in words:
        assert word in str(e.value)


def test_reader_reads_semicolons_decimal_commas_and_latin1():
    text = "Reaction;Days;Subject;Ort\n" + "\n".join(f"{250 + k},5;{k % 10};S{k // 10};Zürich" for k in range(40))
    table = csvread.read_table(text.encode("latin-1"))
    assert list(table.frame.columns) == ["Reaction", "Days", "Subject", "Ort"]
    assert table.frame["Reaction"].iloc[0] == 250.5 and table.frame["Ort"].iloc[0] == "Zürich"
    assert table.delimiter == ";" and table.decimal == "," and table.encoding == "Windows-1252"


def test_bounded_file_reads(tmp_path):
    for special in ("/dev/zero", "/dev/urandom"):
        if Path(special).exists():
            error, seconds, peak = measured(lambda: csvread.read_file(special, 10 * 1024 * 1024))
            print(f"\n[file_mb] {special} refused in {seconds * 1000:.1f} ms, peak {peak:.1f} MB")
            assert isinstance(error, csvread.CsvError) and "not a regular file" in str(error)
    with pytest.raises(csvread.CsvError, match="folder"):
        csvread.read_file(tmp_path, 1000)
    big = tmp_path / "big.csv"
    big.write_bytes(b"y,x,g\n" + b"1,2,a\n" * 1000)
    with pytest.raises(csvread.CsvError, match="limit"):
        csvread.read_file(big, 1000)
    assert csvread.read_file(big, 10_000).startswith(b"y,x,g")


# -- the command line: one line, whatever comes -------------------------------------------------------
def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "lmm_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def one_error_line(result, *words):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_cli_refuses_dev_zero_at_once():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    start = time.perf_counter()
    result = cli("fit", "Reaction ~ Days + (1|Subject)", "--data", "/dev/zero")
    print(f"\n[file_mb] CLI /dev/zero answered in {time.perf_counter() - start:.2f} s")
    one_error_line(result, "not a regular file")


def test_cli_refuses_a_huge_power():
    one_error_line(cli("fit", "Reaction ~ (Days)^30000000 + (1|Subject)", "--data", "datasets/sleepstudy.csv"),
                   "power")


def test_cli_reads_semicolons_and_latin1_like_the_upload(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_bytes(sleep_text(";").replace("Reaction", "Reaktion").encode("latin-1"))
    result = cli("fit", "Reaktion ~ Days + (1|Subject)", "--data", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert '"nobs": 180' in result.stdout


def test_cli_binary_and_bad_bytes_give_one_line(tmp_path):
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    one_error_line(cli("fit", "y ~ x + (1|g)", "--data", str(binary)), "binary")


def test_cli_constant_response_is_one_plain_line(tmp_path):
    path = tmp_path / "flat.csv"
    datasets.load("sleepstudy").assign(Reaction=1.0).to_csv(path, index=False)
    one_error_line(cli("fit", "Reaction ~ Days + (1|Subject)", "--data", str(path)), "same value")


def test_every_refusal_is_an_engine_error():
    assert issubclass(LimitError, LmmError) and issubclass(csvread.CsvError, DataError)
