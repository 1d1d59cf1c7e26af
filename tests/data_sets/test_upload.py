"""Reading a student's own CSV: limits, encodings, separators, odd names, and the catalogue entry built for it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import datasets
from datasets import upload
from datasets.upload import UploadError
from lmm_core import DataError, LmmError, lmer
from teaching.pooling import compare_pooling


def csv_bytes(frame: pd.DataFrame, **kwargs) -> bytes:
    return frame.to_csv(index=False, **kwargs).encode(kwargs.pop("encoding", "utf-8"))


@pytest.fixture(scope="module")
def sleep_csv(sleep) -> bytes:
    return csv_bytes(sleep)


def read(raw: bytes, name: str = "data.csv"):
    return upload.read_csv_bytes(raw, name)


# -- files that are not usable tables ------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"", b"   \n\n  ", b"\n"])
def test_empty_file(raw):
    with pytest.raises(UploadError, match="empty"):
        read(raw)


def test_file_over_the_size_limit_says_both_sizes():
    raw = b"y,x,g\n" + b"1.0,2.0,a\n" * (upload.MAX_BYTES // 10 + 1)
    with pytest.raises(UploadError) as e:
        read(raw)
    assert "5.0 MB" in str(e.value) and "limit" in str(e.value)


def test_too_many_rows():
    raw = b"y,x,g\n" + b"1,2,a\n" * (upload.MAX_ROWS + 1)
    assert len(raw) < upload.MAX_BYTES
    with pytest.raises(UploadError, match="100,000 rows"):
        read(raw)


def test_exactly_the_row_limit_is_fine():
    raw = b"y,x,g\n" + b"1,2,a\n" * upload.MAX_ROWS
    assert len(read(raw).frame) == upload.MAX_ROWS


@pytest.mark.parametrize("magic, word", [(b"PK\x03\x04\x14\x00rest", "Excel"), (b"\xd0\xcf\x11\xe0\xa1\xb1", "Excel"),
                                         (b"%PDF-1.4 ...", "PDF"), (b"\x89PNG\r\n\x1a\n", "image")])
def test_files_that_are_not_csv_are_named(magic, word):
    with pytest.raises(UploadError) as e:
        read(magic + b"\x00" * 50)
    assert word in str(e.value) and "CSV" in str(e.value)


def test_binary_file():
    with pytest.raises(UploadError, match="binary"):
        read(bytes(range(256)) * 4)


def test_one_column_file_points_at_the_separator():
    with pytest.raises(UploadError, match="one column"):
        read(b"value\n1\n2\n3\n")


def test_two_columns_are_too_few():
    with pytest.raises(UploadError, match="three"):
        read(b"y,g\n1,a\n2,b\n")


def test_header_without_rows():
    with pytest.raises(UploadError, match="no data rows"):
        read(b"y,x,g\n")


def test_ragged_rows_say_where():
    with pytest.raises(UploadError) as e:
        read(b"y,x,g\n1,2,a\n3,4,b,extra,more\n5,6,c\n")
    assert "line 3" in str(e.value) and "same number" in str(e.value)


def test_too_many_columns():
    header = ",".join(f"c{i}" for i in range(upload.MAX_COLUMNS + 1))
    with pytest.raises(UploadError, match="columns"):
        read((header + "\n" + ",".join("1" for _ in range(upload.MAX_COLUMNS + 1)) + "\n").encode())


def test_upload_errors_are_engine_errors():
    assert issubclass(UploadError, DataError) and issubclass(UploadError, LmmError)


# -- encodings and separators ---------------------------------------------------------------------
def test_sleepstudy_round_trip(sleep, sleep_csv):
    table = read(sleep_csv, "sleepstudy.csv")
    assert (table.encoding, table.delimiter, table.decimal) == ("UTF-8", ",", ".")
    assert list(table.frame.columns) == list(sleep.columns)
    assert np.allclose(table.frame["Reaction"], sleep["Reaction"])
    assert table.notes == ()


def test_utf8_with_bom(sleep_csv):
    assert list(read(b"\xef\xbb\xbf" + sleep_csv).frame.columns) == ["Reaction", "Days", "Subject"]


def test_windows_1252_is_read_with_a_note():
    text = "Gewicht;Tag;Schüler\n1,5;1;Jürgen\n2,5;2;Jürgen\n3,5;1;Zoë\n4,0;2;Zoë\n"
    table = read(text.encode("cp1252"))
    assert table.encoding == "Windows-1252" and any("not UTF-8" in n for n in table.notes)
    assert list(table.frame.columns) == ["Gewicht", "Tag", "Schüler"]
    assert set(table.frame["Schüler"]) == {"Jürgen", "Zoë"}
    assert table.decimal == "," and table.frame["Gewicht"].tolist() == [1.5, 2.5, 3.5, 4.0]


def test_utf16_with_bom(sleep):
    raw = sleep.to_csv(index=False, sep="\t").encode("utf-16")
    table = read(raw)
    assert table.encoding == "UTF-16" and table.delimiter == "\t"
    assert np.allclose(table.frame["Reaction"], sleep["Reaction"])


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separators_are_detected(sleep, sep):
    table = read(sleep.to_csv(index=False, sep=sep).encode())
    assert table.delimiter == sep
    assert np.allclose(table.frame["Days"], sleep["Days"])


def test_pasted_spreadsheet_text(sleep):
    text = sleep.head(30).to_csv(index=False, sep="\t")
    table = upload.read_pasted(text)
    assert table.file_name == "pasted table" and table.frame.shape == (30, 3)


def test_nothing_pasted():
    with pytest.raises(UploadError, match="Nothing was pasted"):
        upload.read_pasted("   ")


def test_missing_value_spellings_become_missing():
    table = read(b"y,x,g\n1,NA,a\n2,,a\n3,n/a,b\n4,1,b\n")
    assert table.frame["x"].isna().sum() == 3


def test_digest_follows_the_content_not_the_name(sleep_csv):
    a, b = read(sleep_csv, "a.csv"), read(sleep_csv, "b.csv")
    assert a.digest == b.digest
    assert read(sleep_csv.replace(b"249.56", b"249.57"), "a.csv").digest != a.digest


# -- column names ---------------------------------------------------------------------------------
def test_blank_duplicate_and_backticked_names_are_repaired():
    table = read(b",y,y,we`ird\n1,2,3,4\n5,6,7,8\n")
    assert list(table.frame.columns) == ["column_1", "y", "y_2", "we'ird"]
    assert any("no name" in n for n in table.notes) and any("y_2" in n for n in table.notes)


def test_odd_names_fit_on_every_model(sleep):
    odd = sleep.rename(columns={"Reaction": "reaction time (ms)", "Days": "Tage.ü", "Subject": "sujet n°"})
    table = read(csv_bytes(odd))
    assert any("backticks" in n for n in table.notes)
    user = upload.make_user_data(table, "reaction time (ms)", "sujet n°", "Tage.ü")
    assert user.info.models[0].formula == "`reaction time (ms)` ~ Tage.ü + (1 | `sujet n°`)"
    for model in user.info.models:
        reference = next(m for m in datasets.info("sleepstudy").models if m.key == model.key)
        fit, same = lmer(model.formula, user.frame()), lmer(reference.formula, sleep)
        assert fit.objective == pytest.approx(same.objective, abs=1e-6), model.key


# -- roles and the catalogue entry ------------------------------------------------------------------
def test_guess_roles_on_sleepstudy_with_numeric_ids(sleep_csv):
    assert upload.guess_roles(read(sleep_csv).frame) == ("Reaction", "Subject", "Days")


def test_guess_roles_on_gpa_and_iris():
    gpa = read(datasets.info("gpa").path.read_bytes()).frame
    assert upload.guess_roles(gpa)[:2] == ("gpa", "student")
    iris = read(datasets.info("iris").path.read_bytes()).frame
    assert upload.guess_roles(iris)[1] == "Species"


def test_user_data_describes_itself_like_a_built_in_data_set(sleep, sleep_csv):
    user = upload.make_user_data(read(sleep_csv, "my sleep.csv"), "Reaction", "Subject", "Days")
    info = user.info
    assert info.name == "Your data: my sleep.csv" and upload.is_user_name(info.name)
    assert (info.n_rows, info.n_groups) == (180, 18)
    assert [m.random for m in info.models] == ["intercept", "slope", "both", "uncorrelated"]
    assert [m.formula for m in info.models] == [m.formula for m in datasets.info("sleepstudy").models][:1] + [
        "Reaction ~ Days + (0 + Days | Subject)", "Reaction ~ Days + (Days | Subject)",
        "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"]
    for model in info.models:  # the pooling comparison every page uses works on it and matches the built-in one
        mine = compare_pooling(user.frame(), info.response, info.group, covariate=info.covariate, random=model.random)
        ref = compare_pooling(sleep, "Reaction", "Subject", covariate="Days", random=model.random)
        assert mine.fit.objective == pytest.approx(ref.fit.objective, abs=1e-6)


def frame_with(**columns) -> upload.ParsedTable:
    rng = np.random.default_rng(3)
    base = {"y": rng.normal(size=40), "x": np.tile(np.arange(4.0), 10), "g": np.repeat(list("abcdefghij"), 4)}
    base.update(columns)
    return read(csv_bytes(pd.DataFrame(base)))


@pytest.mark.parametrize("columns, roles, words", [
    ({"site": ["A"] * 40}, ("y", "site", "x"), ["only one value", "'A'"]),
    ({"row": np.arange(40)}, ("y", "row", "x"), ["every row", "repeat"]),
    ({"w": np.repeat(np.arange(10.0), 4)}, ("y", "g", "w"), ["never changes within a g", "varies within"]),
    ({"z": [np.nan] * 40}, ("z", "g", "x"), ["empty", "every value is missing"]),
    ({"label": ["low", "high"] * 20}, ("label", "g", "x"), ["must be numeric", "'low'"]),
    ({"score": ["1.5"] * 39 + ["missing"]}, ("score", "g", "x"), ["row 40", "'missing'", "empty cell or NA"]),
    ({"big": [1.0] * 39 + [np.inf]}, ("big", "g", "x"), ["infinite", "row 40"]),
    ({}, ("y", "g", "y"), ["three different columns"]),
    ({}, ("Y", "g", "x"), ["not a column", "Did you mean 'y'"]),
    ({}, ("y", "group", "x"), ["not a column", "'g'"]),
])
def test_bad_roles_are_explained(columns, roles, words):
    with pytest.raises(DataError) as e:
        upload.make_user_data(frame_with(**columns), *roles)
    for word in words:
        assert word in str(e.value), str(e.value)


def test_missing_values_are_counted_not_fatal():
    y = np.random.default_rng(1).normal(size=40)
    y[[3, 9, 20]] = np.nan
    user = upload.make_user_data(frame_with(y=y), "y", "g", "x")
    assert user.info.n_rows == 37 and any("3 of 40 rows" in n for n in user.notes)


def test_simulated_exercise_goes_through_the_upload_path():
    table = upload.simulated_exercise(1234)
    assert table.frame.shape == (150, 3) and table.frame["group"].nunique() == 50
    user = upload.make_user_data(table, "y", "group", "x")
    assert user.info.models[3].formula == "y ~ x + (1 | group) + (0 + x | group)"
    assert upload.simulated_exercise(1234).digest == table.digest != upload.simulated_exercise(7).digest
