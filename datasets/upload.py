"""A student's own data: read an uploaded or pasted CSV safely, and describe it like a built-in data set.

    table = upload.read_csv_bytes(raw, "my_study.csv")     # or upload.read_pasted(text)
    roles = upload.guess_roles(table.frame)                # (response, group, covariate) to offer first
    user = upload.make_user_data(table, *roles)            # .info is a DatasetInfo with four models

Every problem raises ``UploadError`` (a ``DataError`` of the engine, so one ``except LmmError``
catches all bad input) with a message that says what is wrong and what to do. Limits are
explicit (``MAX_BYTES``, ``MAX_ROWS``, ``MAX_COLUMNS``). Nothing read is ever evaluated: text
is parsed by ``csv``/``pandas.read_csv`` only.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lmm_core.comparison import check_roles
from lmm_core import DataError, csvread

from . import DatasetInfo, ModelChoice

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
PREFIX = "Your data: "
LIMITS_TEXT = (f"up to {MAX_BYTES // (1024 * 1024)} MB, {MAX_ROWS:,} rows and {MAX_COLUMNS} columns; "
               "comma, semicolon, tab or | between values; UTF-8 or Windows/Latin-1 text")

_R_NAME = re.compile(r"^(?:[^\W\d_]|\.[^\W\d])[\w.]*$")  # R's syntactic names (letters in any script)


class UploadError(DataError):
    """The file or the pasted text cannot be used; the message says why and what to do."""


@dataclass(frozen=True, kw_only=True)
class ParsedTable(csvread.CsvTable):
    """A table read by the engine's reader (frame, encoding, delimiter, ...), with the file's
    name and a ``digest`` that identifies the content (for caches)."""

    file_name: str
    digest: str


@dataclass(frozen=True)
class UserData:
    """An uploaded table with the roles a student chose, described as a catalogue entry."""

    table: ParsedTable
    info: DatasetInfo
    notes: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def digest(self) -> str:
        return self.table.digest

    def frame(self) -> pd.DataFrame:
        return self.table.frame.copy()


# -- reading (the engine's reader, lmm_core.csvread, with the upload's limits) ----------------
def read_csv_bytes(raw: bytes, file_name: str = "uploaded.csv") -> ParsedTable:
    """Read an uploaded file into a table, or raise UploadError saying what to change."""
    if not isinstance(raw, (bytes, bytearray)):
        raise UploadError("Nothing was uploaded. Choose a CSV file.")
    raw = bytes(raw)
    try:
        table = csvread.read_table(raw, max_bytes=MAX_BYTES, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    except csvread.CsvError as exc:
        raise UploadError(str(exc)) from None
    frame = table.frame
    if frame.shape[1] < 3:
        raise UploadError(f"The table has {frame.shape[1]} column(s), but a response, a group and a covariate "
                          "need three. Check the separator between values, or add the missing columns.")
    digest = hashlib.sha256(raw).hexdigest()[:16]
    clean_name = re.sub(r"[\x00-\x1f]", "", str(file_name)).strip()[:80] or "uploaded.csv"
    return ParsedTable(frame=frame, file_name=clean_name, digest=digest, encoding=table.encoding,
                       delimiter=table.delimiter, decimal=table.decimal, notes=table.notes)


def read_pasted(text: str, name: str = "pasted table") -> ParsedTable:
    """Read text pasted into the page (e.g. copied from a spreadsheet: tab-separated)."""
    if not isinstance(text, str) or not text.strip():
        raise UploadError("Nothing was pasted. Paste a table with a header row, or choose a file.")
    return read_csv_bytes(text.encode("utf-8"), name)


# -- roles and models -------------------------------------------------------------------------
def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


_GROUP_WORDS = re.compile(r"(^|[^a-z])(id|subject|person|participant|patient|student|pupil|school|class|group|"
                          r"cluster|site|species|unit|family|household|country|team|animal|plant)", re.IGNORECASE)


def _is_whole(column: pd.Series) -> bool:
    values = column.to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    return bool(values.size) and bool(np.all(np.mod(values, 1) == 0))


def group_candidates(frame: pd.DataFrame) -> list[str]:
    """Columns whose values repeat (two or more values, fewer than rows), likeliest group first:
    a name like 'subject' or 'id', then text, then whole numbers with many distinct values."""
    n = len(frame)
    scored = []
    for c in frame.columns:
        k = int(frame[c].nunique(dropna=True))
        if not 2 <= k < n:
            continue
        numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        if numeric and not _is_whole(frame[c]):
            continue  # measurements are not group labels
        scored.append((not _GROUP_WORDS.search(str(c)), numeric, k > n / 2, -k, c))
    return [item[-1] for item in sorted(scored, key=lambda s: s[:4])]


def guess_roles(frame: pd.DataFrame) -> tuple[str, str, str]:
    """A first guess of (response, group, covariate) for the pickers; the student changes it.
    Response: the numeric column with the most distinct non-whole values; covariate: the next numeric."""
    columns = list(frame.columns)
    group = (group_candidates(frame) or columns)[0]
    numbers = [c for c in numeric_columns(frame) if c != group]
    ranked = sorted(numbers, key=lambda c: (_is_whole(frame[c]), -int(frame[c].nunique())))
    response = ranked[0] if ranked else next(c for c in columns if c != group)
    rest = [c for c in numbers if c != response] + [c for c in columns if c not in (group, response)]
    return response, group, rest[0]


def r_name(name: str) -> str:
    """A column name as a formula needs it: backticks around names with spaces or odd characters."""
    return name if _R_NAME.match(name) else f"`{name}`"


def models_for(response: str, group: str, covariate: str) -> tuple[ModelChoice, ...]:
    y, g, x = r_name(response), r_name(group), r_name(covariate)
    return (
        ModelChoice("ri", "Random intercept", f"{y} ~ {x} + (1 | {g})", "intercept"),
        ModelChoice("rs_only", "Random slope only", f"{y} ~ {x} + (0 + {x} | {g})", "slope"),
        ModelChoice("rs", "Random intercept and slope (correlated)", f"{y} ~ {x} + ({x} | {g})", "both"),
        ModelChoice("rs_uncorr", "Random intercept and slope (uncorrelated)",
                    f"{y} ~ {x} + (1 | {g}) + (0 + {x} | {g})", "uncorrelated"),
    )


def make_user_data(table: ParsedTable, response: str, group: str, covariate: str) -> UserData:
    """Check the chosen columns and describe the data as a catalogue entry (raises UploadError/DataError)."""
    report = check_roles(table.frame, response, group, covariate)
    info = DatasetInfo(
        name=PREFIX + table.file_name,
        title=table.file_name,
        story=(f"Your own data from {table.file_name}: {report.n_used} rows in {report.n_groups} groups "
               f"('{group}'), explaining '{response}' by '{covariate}'."),
        response=response, response_label=response,
        group=group, group_label=group,
        covariate=covariate, covariate_label=covariate,
        extra_covariates=(),
        models=models_for(response, group, covariate),
        source=f"Uploaded in this browser session: {table.file_name}.",
        citation="",
        file=table.file_name,
        n_rows=report.n_used,
        n_groups=report.n_groups,
    )
    return UserData(table, info, tuple(report.notes))


def is_user_name(name: object) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def simulated_exercise(seed: int = 1234) -> ParsedTable:
    """The seed material's random-slope simulation (50 groups of 3, x ~ N(0, 1), intercept SD 0.75,
    slope SD 0.25, no correlation, residual SD 0.25), as a CSV going through the upload path."""
    from teaching.simulate import SimulationSettings, simulate

    settings = SimulationSettings(n_groups=50, n_per_group=3, fixed_intercept=2.0, fixed_slope=0.5,
                                  sd_intercept=0.75, sd_slope=0.25, correlation=0.0, sd_residual=0.25,
                                  covariate="normal", seed=int(seed))
    data = simulate(settings).data[["y", "x", "group"]]
    raw = data.to_csv(index=False, float_format="%.17g").encode("utf-8")
    return read_csv_bytes(raw, f"simulated random slopes (seed {int(seed)}).csv")
