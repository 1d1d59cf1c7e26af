"""The command line, run as a user runs it: ``python -m lmm_core ...`` in a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmm_core import cli

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / ".." / "shared" / "reference" / "lme4_reference.json"
SLEEP = "datasets/sleepstudy.csv"
RS = "Reaction ~ Days + (Days | Subject)"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lmm_core", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REFERENCE.is_file():
        pytest.skip("lme4 reference file not found")
    return json.loads(REFERENCE.read_text())


def assert_one_error_line(result: subprocess.CompletedProcess):
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr


def shape(x):
    if isinstance(x, dict):
        return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [shape(v) for v in x]
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, (int, float)):
        return "number"
    return type(x).__name__


def test_summary_text_for_sleepstudy():
    result = run("fit", RS, "--data", SLEEP)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "REML criterion at convergence: 1743.6" in out
    assert out.startswith("Linear mixed model fit by REML ['lmerMod']\nFormula: Reaction ~ Days + (Days | Subject)\n")
    assert "   Data: sleepstudy\n" in out
    assert "Number of obs: 180, groups:  Subject, 18" in out
    assert "(Intercept)  251.405      6.825  36.838" in out
    assert result.stderr == ""


@pytest.mark.parametrize("model_id", ["sleep_rs", "gpa_rs"])
def test_json_matches_the_reference_entry(reference, model_id):
    ref = reference[model_id]
    result = run("fit", ref["formula"], "--data", f"datasets/{ref['data']}", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    for key in cli.REFERENCE_KEYS:
        assert key in out, key
        assert shape(out[key]) == shape(ref[key]), key
    assert out["objective"] == pytest.approx(ref["objective"], abs=1e-4)
    assert out["nobs"] == ref["nobs"] and out["ngroups"] == ref["ngroups"] and out["df"] == ref["df"]
    assert out["singular"] == ref["singular"]
    assert list(out["fixef"]) == list(ref["fixef"])
    for name, value in ref["fixef"].items():
        assert abs(out["fixef"][name] - value) <= 1e-3 * ref["fixef_se"][name]
    assert out["sigma"] == pytest.approx(ref["sigma"], rel=1e-3)
    for factor, rows in ref["ranef"].items():
        assert [r["level"] for r in out["ranef"][factor]] == [r["level"] for r in rows]
        assert [r["level"] for r in out["coef"][factor]] == [r["level"] for r in rows]
        for mine, theirs in zip(out["ranef"][factor], rows):
            for col, value in theirs["values"].items():
                assert abs(mine["values"][col] - value) <= 1e-3 * theirs["cond_sd"][col]
    assert np.allclose(out["fitted_head"], ref["fitted_head"], rtol=1e-5)


def test_ml_flag_gives_the_ml_reference(reference):
    ref = reference["sleep_rs_ml"]
    result = run("fit", ref["formula"], "--data", SLEEP, "--ml", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["reml"] is False
    assert out["objective"] == pytest.approx(ref["objective"], abs=1e-4)
    assert out["aic"] == pytest.approx(ref["aic"], abs=1e-4)
    assert out["bic"] == pytest.approx(ref["bic"], abs=1e-4)
    assert out["sigma"] == pytest.approx(ref["sigma"], rel=1e-3)
    text = run("fit", ref["formula"], "--data", SLEEP, "--ml").stdout
    assert "Linear mixed model fit by maximum likelihood  ['lmerMod']" in text
    assert "  1763.9   1783.1   -876.0   1751.9      174 " in text


def test_bad_column_is_one_error_line():
    result = run("fit", "Reaction ~ Dayz + (Days | Subject)", "--data", SLEEP)
    assert_one_error_line(result)
    assert "Dayz" in result.stderr and "Days" in result.stderr


def test_formula_syntax_error_is_one_error_line():
    assert_one_error_line(run("fit", "Reaction ~ Days + (Days | Subject", "--data", SLEEP))


def test_missing_file():
    result = run("fit", RS, "--data", "no/such/file.csv")
    assert_one_error_line(result)
    assert "no/such/file.csv" in result.stderr


@pytest.mark.parametrize(
    "content",
    [b"", b'a,b\n1,"2\n', b"\xff\xfe\x00\x01garbage\n", b"Reaction,Days,Subject\n"],
    ids=["empty", "unclosed-quote", "binary", "header-only"],
)
def test_unreadable_csv(tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert_one_error_line(run("fit", RS, "--data", str(path)))


def test_data_errors_are_one_error_line(tmp_path):
    path = tmp_path / "one_group.csv"
    path.write_text("Reaction,Days,Subject\n" + "".join(f"{200 + d},{d},A\n" for d in range(10)))
    result = run("fit", RS, "--data", str(path))
    assert_one_error_line(result)
    assert "Subject" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["fit", RS],  # no --data
        ["fit", "--data", SLEEP],  # no formula
        ["fit", RS, "--data", SLEEP, "--bogus"],
        ["nosuchcommand"],
        [],
    ],
    ids=["no-data", "no-formula", "unknown-option", "unknown-command", "no-command"],
)
def test_bad_arguments_are_one_error_line(args):
    assert_one_error_line(run(*args))


def test_version_and_help():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("lmm_core ")
    result = run("fit", "--help")
    assert result.returncode == 0 and "--ml" in result.stdout and "--json" in result.stdout


def test_grouping_columns_are_read_as_factors_in_r_order(tmp_path):
    # ids 1..12: R orders the factor levels 1, 2, ..., 10, 11, 12 (not "1", "10", "11", "12", "2", ...)
    rng = np.random.default_rng(0)
    rows = ["y,x,id"]
    for i in range(1, 13):
        b = rng.normal()
        rows += [f"{3 + b + 0.5 * x + rng.normal():.6f},{x},{i}" for x in range(5)]
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(rows) + "\n")
    result = run("fit", "y ~ x + (1 | id)", "--data", str(path), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [r["level"] for r in out["ranef"]["id"]] == [str(i) for i in range(1, 13)]


def test_main_in_process_returns_the_status(capsys):
    assert cli.main(["fit", RS, "--data", str(REPO / SLEEP)]) == 0
    assert "REML criterion at convergence: 1743.6" in capsys.readouterr().out
    assert cli.main(["fit", RS, "--data", "missing.csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_parser_has_a_place_for_more_subcommands():
    parser = cli.build_parser()
    assert "fit" in parser.subparsers.choices
    extra = parser.subparsers.add_parser("extra-for-test")
    extra.set_defaults(handler=lambda args: 0)
    assert parser.parse_args(["extra-for-test"]).handler(None) == 0
