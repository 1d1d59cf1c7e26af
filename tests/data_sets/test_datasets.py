"""Tests for the project's own `datasets` package."""

from pathlib import Path

import pandas as pd
import pytest

import datasets

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_our_datasets_package_is_imported_not_hugging_face():
    # PyPI has a `datasets` package too; the project root must come first on sys.path.
    assert Path(datasets.__file__).resolve().is_relative_to(REPO)


def test_catalogue_order_and_names():
    assert datasets.names() == ["sleepstudy", "gpa", "iris"]
    assert list(datasets.CATALOGUE) == datasets.names()


@pytest.mark.parametrize("name", ["sleepstudy", "gpa", "iris"])
def test_csv_is_byte_identical_to_shared_copy(name):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}; cannot compare the CSV files")
    ours = (REPO / "datasets" / f"{name}.csv").read_bytes()
    theirs = (SHARED_DATA / f"{name}.csv").read_bytes()
    assert ours == theirs


def test_sleepstudy_shape():
    df = datasets.load("sleepstudy")
    assert len(df) == 180
    assert df["Subject"].nunique() == 18
    assert sorted(df["Days"].unique()) == list(range(10))
    assert (df.groupby("Subject", observed=True).size() == 10).all()


def test_iris_shape():
    df = datasets.load("iris")
    assert len(df) == 150
    counts = df["Species"].value_counts()
    assert list(df["Species"].cat.categories) == ["setosa", "versicolor", "virginica"]
    assert (counts == 50).all() and len(counts) == 3


def test_gpa_shape():
    df = datasets.load("gpa")
    assert len(df) == 1200
    assert df["student"].nunique() == 200
    assert sorted(df["occasion"].unique()) == list(range(6))


@pytest.mark.parametrize("name", ["sleepstudy", "gpa", "iris"])
def test_catalogue_counts_match_data(name):
    meta = datasets.info(name)
    df = datasets.load(name)
    assert meta.n_rows == len(df)
    assert meta.n_groups == df[meta.group].nunique()
    assert meta.path.is_file() and meta.path.name == meta.file


@pytest.mark.parametrize("name", ["sleepstudy", "gpa", "iris"])
def test_catalogue_columns_exist_and_models_are_sane(name):
    meta = datasets.info(name)
    df = datasets.load(name)
    for col in (meta.response, meta.group, meta.covariate, *meta.extra_covariates):
        assert col in df.columns
    assert pd.api.types.is_float_dtype(df[meta.response])
    keys = [m.key for m in meta.models]
    assert len(keys) == len(set(keys)) and keys
    for model in meta.models:
        assert model.key.replace("_", "").isalnum() and model.key.islower()
        assert model.random in {"intercept", "slope", "both", "uncorrelated"}
        assert model.formula.startswith(f"{meta.response} ~")
        assert f"| {meta.group})" in model.formula


def test_model_formulas():
    formulas = {n: [m.formula for m in datasets.info(n).models] for n in datasets.names()}
    assert formulas["sleepstudy"] == [
        "Reaction ~ Days + (1 | Subject)",
        "Reaction ~ Days + (0 + Days | Subject)",
        "Reaction ~ Days + (Days | Subject)",
        "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
    ]
    assert formulas["gpa"] == [
        "gpa ~ occasion + (1 | student)",
        "gpa ~ occasion + (1 + occasion | student)",
    ]
    assert "Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length | Species)" in formulas["iris"]
    assert "Petal.Width ~ Sepal.Width + Sepal.Length + (1 | Species)" in formulas["iris"]


@pytest.mark.parametrize("name,column", [("sleepstudy", "Subject"), ("gpa", "student"), ("iris", "Species")])
def test_grouping_columns_are_categorical_strings(name, column):
    series = datasets.load(name)[column]
    assert isinstance(series.dtype, pd.CategoricalDtype)
    assert not pd.api.types.is_numeric_dtype(series.dtype)
    assert all(isinstance(level, str) for level in series.cat.categories)
    assert series.notna().all()


@pytest.mark.parametrize("name,column", [("sleepstudy", "Subject"), ("gpa", "student")])
def test_numeric_ids_are_in_numeric_order(name, column):
    levels = list(datasets.load(name)[column].cat.categories)
    assert [int(v) for v in levels] == sorted(int(v) for v in levels)


def test_gpa_student_levels_start_1_2_3_not_1_10():
    levels = list(datasets.load("gpa")["student"].cat.categories)
    assert levels[:3] == ["1", "2", "3"]
    assert levels[9] == "10" and levels[-1] == "200"


def test_gpa_text_columns_and_missing_admitted():
    df = datasets.load("gpa")
    for col in ["occas", "job", "sex", "admitted"]:
        assert isinstance(df[col].dtype, pd.CategoricalDtype), col
    assert list(df["job"].cat.categories) == ["1 hour", "2 hours", "3 hours"]
    assert list(df["admitted"].cat.categories) == ["no", "yes"]
    assert df["admitted"].isna().sum() == 384


@pytest.mark.parametrize("name", ["sleepstudy", "gpa", "iris"])
def test_numeric_columns_are_float64_or_int64(name):
    df = datasets.load(name)
    for col in df.columns:
        if not isinstance(df[col].dtype, pd.CategoricalDtype):
            assert df[col].dtype in ("float64", "int64"), col


def test_unknown_name_raises_with_known_names():
    for func in (datasets.load, datasets.info):
        with pytest.raises(datasets.UnknownDatasetError) as caught:
            func("mtcars")
        message = str(caught.value)
        assert "mtcars" in message
        for name in datasets.names():
            assert name in message
        assert not message.startswith(("'", '"'))  # plain sentence, not KeyError's quoting
    assert issubclass(datasets.UnknownDatasetError, KeyError)
    assert issubclass(datasets.UnknownDatasetError, ValueError)


def test_names_are_case_insensitive():
    assert datasets.info("SleepStudy") is datasets.info("sleepstudy")
    pd.testing.assert_frame_equal(datasets.load("IRIS"), datasets.load("iris"))


def test_load_returns_independent_copies():
    first = datasets.load("sleepstudy")
    first.loc[0, "Reaction"] = -1.0
    first["Subject"] = first["Subject"].cat.rename_categories(lambda s: "x" + s)
    del first["Days"]
    second = datasets.load("sleepstudy")
    assert second.loc[0, "Reaction"] != -1.0
    assert "Days" in second.columns
    assert second["Subject"].cat.categories[0] == "308"
    assert first is not second
