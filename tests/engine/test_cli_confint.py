"""`python -m lmm_core fit ... --confint [profile|Wald]`, run as a user runs it (a subprocess)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REF = json.loads((REPO / "tests" / "data" / "lme4_confint" / "lme4_confint.json").read_text())
SLEEP = "datasets/sleepstudy.csv"
RS = "Reaction ~ Days + (Days | Subject)"


def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmm_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_no_intervals_unless_asked():
    result = run("fit", RS, "--data", SLEEP, "--json")
    assert result.returncode == 0, result.stderr
    assert "confint" not in json.loads(result.stdout)
    text = run("fit", RS, "--data", SLEEP).stdout
    assert "2.5 %" not in text


def test_wald_table_printed_after_the_summary_as_r_prints_it():
    result = run("fit", RS, "--data", SLEEP, "--confint", "Wald")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").splitlines()
    assert lines[0].startswith("Linear mixed model fit by REML")
    table = lines[-7:]
    r_printed = REF["sleep_corr"]["wald"]["0.95"]["printed"]
    assert table[0] == r_printed[0]  # the header: '                                  2.5 %    97.5 %'
    for mine, theirs in zip(table[1:5], r_printed[1:5]):  # the NA rows, character for character
        assert mine == theirs
    assert [line.split()[0] for line in table[5:]] == ["(Intercept)", "Days"]
    assert lines.index(table[0]) > lines.index("Correlation of Fixed Effects:")


def test_profile_json_has_the_intervals():
    result = run("fit", RS, "--data", SLEEP, "--json", "--confint")  # profile is the default method
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    ci = out["confint"]
    ref = REF["sleep_corr"]["profile"]["0.95"]
    assert ci["method"] == "profile" and ci["level"] == 0.95
    assert ci["columns"] == ref["columns"]
    assert [r["name"] for r in ci["rows"]] == ref["names"]
    for row, lo, hi in zip(ci["rows"], ref["lower"], ref["upper"]):
        assert row["lower"] == pytest.approx(lo, rel=1e-3) and row["upper"] == pytest.approx(hi, rel=1e-3)
    assert out["objective"] == pytest.approx(REF["sleep_corr"]["objective"], abs=1e-4)  # the fit is still there


def test_wald_json_at_another_level_has_nulls_for_variance_parameters():
    result = run("fit", RS, "--data", SLEEP, "--json", "--confint", "wald", "--level", "0.9")
    assert result.returncode == 0, result.stderr
    ci = json.loads(result.stdout)["confint"]
    ref = REF["sleep_corr"]["wald"]["0.9"]
    assert ci["method"] == "Wald" and ci["columns"] == ["5 %", "95 %"] == ref["columns"]
    assert [r["lower"] for r in ci["rows"][:4]] == [None] * 4
    for row, lo, hi in zip(ci["rows"][4:], ref["lower"][4:], ref["upper"][4:]):
        assert row["lower"] == pytest.approx(lo, rel=1e-6) and row["upper"] == pytest.approx(hi, rel=1e-6)


@pytest.mark.parametrize("args", [["--confint", "boot"], ["--confint", "Wald", "--level", "95"],
                                  ["--confint", "Wald", "--level", "x"]])
def test_bad_confint_arguments_are_one_error_line(args):
    result = run("fit", RS, "--data", SLEEP, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr
