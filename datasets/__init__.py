"""The three teaching data sets of Shrinkage Lab, with a catalogue describing them.

Use it like this::

    import datasets

    datasets.names()                 # ['sleepstudy', 'gpa', 'iris']
    meta = datasets.info("sleepstudy")
    df = datasets.load("sleepstudy")  # a fresh pandas DataFrame each call

The codebook (every column, its unit and its type) is in ``datasets/README.md``.

A note on the name: PyPI also has a package called ``datasets`` (from Hugging
Face). This project's own ``datasets`` folder wins because the project root is
the first entry on ``sys.path`` in every way the project runs:

* ``streamlit run app.py`` puts the folder holding ``app.py`` first;
* pytest is configured with ``pythonpath = ["."]`` in ``pyproject.toml``;
* ``python -m ...`` started from the project root puts the root first.

``tests/test_datasets.py`` checks that ``datasets.__file__`` is inside the repo.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = [
    "CATALOGUE",
    "DATA_DIR",
    "DatasetInfo",
    "ModelChoice",
    "UnknownDatasetError",
    "info",
    "load",
    "names",
]

#: The folder holding the CSV files (the same folder as this module).
DATA_DIR = Path(__file__).resolve().parent

#: The allowed values of ``ModelChoice.random``.
RANDOM_KINDS = ("intercept", "slope", "both", "uncorrelated")


@dataclass(frozen=True)
class ModelChoice:
    """One mixed model the app can fit on a data set.

    ``key`` is a short, URL-safe id (unique within its data set), ``label`` is
    what students see, ``formula`` is in lme4 syntax, and ``random`` says which
    random effects the model has: ``"intercept"``, ``"slope"``, ``"both"``
    (intercept and slope, correlated) or ``"uncorrelated"`` (intercept and
    slope, correlation fixed at zero).
    """

    key: str
    label: str
    formula: str
    random: str

    def __post_init__(self) -> None:
        if self.random not in RANDOM_KINDS:
            raise ValueError(
                f"random must be one of {', '.join(RANDOM_KINDS)}; got {self.random!r}."
            )


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the app needs to know about one data set.

    ``response``, ``group`` and ``covariate`` are column names; the matching
    ``*_label`` fields are the words (with units) to show on axes and in text.
    ``models[0]`` is the model the app shows first.
    """

    name: str
    title: str
    story: str
    response: str
    response_label: str
    group: str
    group_label: str
    covariate: str
    covariate_label: str
    extra_covariates: tuple[str, ...]
    models: tuple[ModelChoice, ...]
    source: str
    citation: str
    file: str
    n_rows: int
    n_groups: int

    @property
    def path(self) -> Path:
        """Full path of the CSV file."""
        return DATA_DIR / self.file

    def model(self, key: str) -> ModelChoice:
        """The model with this key; ``KeyError`` if there is none."""
        for choice in self.models:
            if choice.key == key:
                return choice
        known = ", ".join(m.key for m in self.models)
        raise KeyError(f"{self.name} has no model {key!r}; its models are: {known}.")


class UnknownDatasetError(KeyError, ValueError):
    """Raised for a data set name that is not in the catalogue.

    It is both a ``KeyError`` and a ``ValueError``, so either ``except`` works.
    """

    def __init__(self, name: object) -> None:
        self.name = name
        known = ", ".join(CATALOGUE)
        self.message = f"There is no data set called {name!r}. The known data sets are: {known}."
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would otherwise wrap the text in quotes
        return self.message


# --------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------

CATALOGUE: dict[str, DatasetInfo] = {
    "sleepstudy": DatasetInfo(
        name="sleepstudy",
        title="Sleep deprivation and reaction time",
        story=(
            "In a sleep study, 18 volunteers were allowed only about three hours "
            "of sleep a night. Every day they took a reaction-time test, and we "
            "have each person's average reaction time on days 0 to 9. Almost "
            "everyone gets slower as the nights go by, but people start at "
            "different speeds and slow down at different rates, which is "
            "exactly what random intercepts and random slopes describe."
        ),
        response="Reaction",
        response_label="Reaction time (ms)",
        group="Subject",
        group_label="subject",
        covariate="Days",
        covariate_label="Days of sleep restriction (days)",
        extra_covariates=(),
        models=(
            ModelChoice(
                key="ri",
                label="Random intercept",
                formula="Reaction ~ Days + (1 | Subject)",
                random="intercept",
            ),
            ModelChoice(
                key="rs_only",
                label="Random slope only",
                formula="Reaction ~ Days + (0 + Days | Subject)",
                random="slope",
            ),
            ModelChoice(
                key="rs",
                label="Random intercept and slope (correlated)",
                formula="Reaction ~ Days + (Days | Subject)",
                random="both",
            ),
            ModelChoice(
                key="rs_uncorr",
                label="Random intercept and slope (uncorrelated)",
                formula="Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
                random="uncorrelated",
            ),
        ),
        source="R package lme4 (version 1.1-31), data set `sleepstudy`.",
        citation=(
            "Belenky, G., Wesensten, N. J., Thorne, D. R., et al. (2003). Patterns of "
            "performance degradation and restoration during sleep restriction and "
            "subsequent recovery: a sleep dose-response study. Journal of Sleep "
            "Research, 12, 1-12."
        ),
        file="sleepstudy.csv",
        n_rows=180,
        n_groups=18,
    ),
    "gpa": DatasetInfo(
        name="gpa",
        title="College grades over six semesters",
        story=(
            "200 college students had their grade point average (GPA) recorded "
            "in each of six semesters, from the first semester of year 1 to the "
            "second semester of year 3. On average grades creep up over time, "
            "but each student has their own starting level and their own "
            "trend. With many students and only six grades each, it shows "
            "shrinkage at work on a large number of small groups."
        ),
        response="gpa",
        response_label="Grade point average (GPA, 0-4 scale)",
        group="student",
        group_label="student",
        covariate="occasion",
        covariate_label="Semester (0 = first semester)",
        extra_covariates=(),
        models=(
            ModelChoice(
                key="ri",
                label="Random intercept",
                formula="gpa ~ occasion + (1 | student)",
                random="intercept",
            ),
            ModelChoice(
                key="rs",
                label="Random intercept and slope (correlated)",
                formula="gpa ~ occasion + (1 + occasion | student)",
                random="both",
            ),
        ),
        source=(
            "The GPA example of Hox, Moerbeek & van de Schoot, in the CSV form used "
            "by Michael Clark's Mixed Models with R (data/gpa.csv of "
            "m-clark/mixed-models-with-R)."
        ),
        citation=(
            "Hox, J. J., Moerbeek, M., & van de Schoot, R. (2017). Multilevel "
            "Analysis: Techniques and Applications (3rd ed.). Routledge."
        ),
        file="gpa.csv",
        n_rows=1200,
        n_groups=200,
    ),
    "iris": DatasetInfo(
        name="iris",
        title="Iris flowers: three species",
        story=(
            "Fifty flowers of each of three iris species (setosa, versicolor and "
            "virginica) were measured: the length and width of their sepals and "
            "petals, in centimetres. Here we predict petal width from the sepal "
            "measurements and let each species have its own line. With only "
            "three groups there is very little to learn the spread between "
            "groups from, which makes it a good warning example."
        ),
        response="Petal.Width",
        response_label="Petal width (cm)",
        group="Species",
        group_label="species",
        covariate="Sepal.Length",
        covariate_label="Sepal length (cm)",
        extra_covariates=("Sepal.Width",),
        models=(
            ModelChoice(
                key="rs",
                label="Random intercept and slope (correlated)",
                formula=(
                    "Petal.Width ~ Sepal.Width + Sepal.Length + "
                    "(1 + Sepal.Length | Species)"
                ),
                random="both",
            ),
            ModelChoice(
                key="ri",
                label="Random intercept",
                formula="Petal.Width ~ Sepal.Width + Sepal.Length + (1 | Species)",
                random="intercept",
            ),
        ),
        source="R's built-in data set `datasets::iris`.",
        citation=(
            "Anderson, E. (1935). The irises of the Gaspe Peninsula. Bulletin of the "
            "American Iris Society, 59, 2-5. Fisher, R. A. (1936). The use of multiple "
            "measurements in taxonomic problems. Annals of Eugenics, 7, 179-188."
        ),
        file="iris.csv",
        n_rows=150,
        n_groups=3,
    ),
}

# Column types, per data set: "category" (pandas Categorical of strings),
# "float" (float64) or "int" (int64). Every column of every file is listed.
_SCHEMA: dict[str, dict[str, str]] = {
    "sleepstudy": {"Reaction": "float", "Days": "int", "Subject": "category"},
    "gpa": {
        "student": "category",
        "occas": "category",
        "gpa": "float",
        "job": "category",
        "sex": "category",
        "highgpa": "float",
        "admitted": "category",
        "year": "int",
        "semester": "int",
        "occasion": "int",
    },
    "iris": {
        "Sepal.Length": "float",
        "Sepal.Width": "float",
        "Petal.Length": "float",
        "Petal.Width": "float",
        "Species": "category",
    },
}


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------


def names() -> list[str]:
    """The names of all data sets, in catalogue order."""
    return list(CATALOGUE)


def _resolve(name: object) -> str:
    """The catalogue key for ``name`` (case and surrounding spaces ignored)."""
    if isinstance(name, str):
        key = name.strip().lower()
        if key in CATALOGUE:
            return key
    raise UnknownDatasetError(name)


def info(name: str) -> DatasetInfo:
    """The catalogue entry for a data set. Names are case-insensitive."""
    return CATALOGUE[_resolve(name)]


def load(name: str) -> pd.DataFrame:
    """The data set as a DataFrame: a fresh copy on every call.

    Grouping and other text columns are pandas Categoricals of strings, with
    categories in the order R would give factor levels (ids that are numbers
    sort as numbers: "1", "2", ..., "10"). Numbers are float64 or int64.
    """
    return _read(_resolve(name)).copy()


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _r_level_order(values: pd.Series) -> list[str]:
    """Distinct non-missing strings in R's factor-level order.

    If every value is a number (like subject ids), sort by numeric value, as
    R does for a numeric column turned into a factor. Otherwise sort the text.
    """
    distinct = [v for v in pd.unique(values.dropna())]
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return sorted(distinct)


@functools.lru_cache(maxsize=None)
def _read(key: str) -> pd.DataFrame:
    """Parse one CSV once; callers must copy before handing it out."""
    schema = _SCHEMA[key]
    text_columns = [col for col, kind in schema.items() if kind == "category"]
    frame = pd.read_csv(
        CATALOGUE[key].path,
        dtype={col: str for col in text_columns},
        na_values=["NA"],
        keep_default_na=False,
    )
    if list(frame.columns) != list(schema):
        raise RuntimeError(
            f"{CATALOGUE[key].file} has columns {list(frame.columns)}, "
            f"expected {list(schema)}."
        )
    for col, kind in schema.items():
        if kind == "category":
            frame[col] = pd.Categorical(frame[col], categories=_r_level_order(frame[col]))
        elif kind == "float":
            frame[col] = frame[col].astype("float64")
        else:
            frame[col] = frame[col].astype("int64")
    return frame
