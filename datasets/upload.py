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

import csv
import hashlib
import io
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lmm_core.comparison import check_roles
from lmm_core import DataError

from . import DatasetInfo, ModelChoice

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
PREFIX = "Your data: "
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
LIMITS_TEXT = (f"up to {MAX_BYTES // (1024 * 1024)} MB, {MAX_ROWS:,} rows and {MAX_COLUMNS} columns; "
               "comma, semicolon, tab or | between values; UTF-8 or Windows/Latin-1 text")

# File signatures of formats students often upload by mistake.
_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zipped file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip-compressed file",
}
_R_NAME = re.compile(r"^(?:[^\W\d_]|\.[^\W\d])[\w.]*$")  # R's syntactic names (letters in any script)


class UploadError(DataError):
    """The file or the pasted text cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class ParsedTable:
    """A read table and how it was read. ``digest`` identifies the content (for caches)."""

    frame: pd.DataFrame
    file_name: str
    digest: str
    encoding: str
    delimiter: str
    decimal: str
    notes: tuple[str, ...] = ()

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))


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


# -- reading -------------------------------------------------------------------------------
def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _check_bytes(raw: bytes) -> None:
    if len(raw) > MAX_BYTES:
        raise UploadError(
            f"The file is {_megabytes(len(raw))}; the limit is {_megabytes(MAX_BYTES)}. Keep only the columns "
            "the model needs, or a sample of the rows, and upload it again."
        )
    if not raw.strip():
        raise UploadError("The file is empty. Choose a CSV file with a header row and at least a few rows of data.")
    for magic, kind in _SIGNATURES.items():
        if raw.startswith(magic):
            raise UploadError(
                f"This looks like {kind}, not a CSV text file. In a spreadsheet program use "
                "File > Save as > 'CSV (comma-separated values)', then upload that file."
            )


def _decode(raw: bytes) -> tuple[str, str, list[str]]:
    """Text, encoding and notes. UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "UTF-16", []
        except UnicodeDecodeError:
            raise UploadError("The file says it is UTF-16 text but cannot be read as such. Save it as UTF-8 CSV.")
    if b"\x00" in raw[:4096]:
        raise UploadError(
            "This is a binary file, not a CSV text file. Export the data as CSV (UTF-8) and upload that file."
        )
    try:
        return raw.decode("utf-8-sig"), "UTF-8", []
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
        encoding = "Windows-1252"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "Latin-1"
    note = (f"The file is not UTF-8, so it was read as {encoding} (Western European). If letters with accents "
            "look wrong, save the file as 'CSV UTF-8' and upload it again.")
    return text, encoding, [note]


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return []


def _detect_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the most consistent number (>= 2) of fields."""
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    best, best_score = None, (0.0, 0)
    for delimiter in DELIMITERS:
        counts = _field_counts(lines, delimiter)
        if not counts:
            continue
        width, agree = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (agree / len(counts), width)
        if score > best_score:
            best, best_score = delimiter, score
    if best is None:
        raise UploadError(
            "Only one column was found: the values are not separated by commas, semicolons, tabs or |. "
            "A mixed model needs at least three columns (a response, a group and a covariate). Check that the "
            "file is a table saved as CSV."
        )
    return best


_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?=;|$)", re.MULTILINE)


def _header(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise UploadError("The first row (the column names) could not be read. Check the file's first line.")


def _read_frame(text: str, delimiter: str) -> tuple[pd.DataFrame, str, list[str]]:
    decimal = "," if delimiter == ";" and _DECIMAL_COMMA.search(text[:20000]) else "."
    names, notes = _clean_names(_header(text, delimiter))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # e.g. rows longer than the header
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal, nrows=MAX_ROWS + 1, names=names,
                                header=0, index_col=False,
                                skipinitialspace=True, na_values=["NA", "N/A", "n/a", "na", "."], engine="c",
                                low_memory=False, on_bad_lines="error")
    except pd.errors.ParserWarning:
        raise UploadError(
            f"Some rows have more values than the first row has column names ({len(names)}). Give every column "
            f"a name, and check that the {DELIMITERS[delimiter]} is not also used inside values."
        ) from None
    except pd.errors.EmptyDataError:
        raise UploadError("The file has no table in it. Choose a CSV file with a header row and data rows.")
    except pd.errors.ParserError as exc:
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc)).strip()
        raise UploadError(
            f"The file could not be read as a table ({detail}). Every row must have the same number of "
            f"values, separated by the same character ({DELIMITERS[delimiter]} here)."
        ) from None
    except (ValueError, UnicodeError, MemoryError, OverflowError) as exc:
        raise UploadError(f"The file could not be read as a table: {exc}. Check that it is a CSV file.") from None
    return frame, decimal, notes


def _clean_names(header: list[str]) -> tuple[list[str], list[str]]:
    """Names as text without surrounding spaces or backticks; blank names get 'column_k'; repeated
    names get '_2', '_3'."""
    names, notes = [], []
    for k, raw_name in enumerate(header):
        name = str(raw_name).strip().replace("`", "'")
        if not name:
            name = f"column_{k + 1}"
            notes.append(f"Column {k + 1} had no name; it is called '{name}' here.")
        names.append(name)
    seen = Counter()
    for i, name in enumerate(names):
        seen[name] += 1
        while seen[name] > 1 and f"{name}_{seen[name]}" in names:
            seen[name] += 1
        if seen[name] > 1:
            names[i] = f"{name}_{seen[name]}"
            notes.append(f"Two columns were called '{name}'; the second is called '{names[i]}' here.")
    odd = [n for n in names if not _R_NAME.match(n)]
    if odd:
        notes.append("Some column names have spaces or other special characters (" + ", ".join(
            f"'{n}'" for n in odd[:4]) + "). In a formula, write them between backticks, e.g. " + f"`` `{odd[0]}` ``.")
    return names, notes


def _tidy_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip spaces around text values, so ' A' and 'A' are the same group."""
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(lambda v: v.strip() if isinstance(v, str) else v)
    return frame


def read_csv_bytes(raw: bytes, file_name: str = "uploaded.csv") -> ParsedTable:
    """Read an uploaded file into a table, or raise UploadError saying what to change."""
    if not isinstance(raw, (bytes, bytearray)):
        raise UploadError("Nothing was uploaded. Choose a CSV file.")
    raw = bytes(raw)
    _check_bytes(raw)
    text, encoding, notes = _decode(raw)
    text = re.sub(r"^(?:[ \t]*\r?\n)+", "", text)  # blank lines before the header
    delimiter = _detect_delimiter(text)
    frame, decimal, name_notes = _read_frame(text, delimiter)
    if len(frame) > MAX_ROWS:
        raise UploadError(f"The file has more than {MAX_ROWS:,} rows, the limit here. Upload a sample of the rows.")
    if frame.shape[1] > MAX_COLUMNS:
        raise UploadError(f"The file has {frame.shape[1]} columns; the limit is {MAX_COLUMNS}. Keep only the "
                          "columns the model needs.")
    if frame.shape[1] < 3:
        raise UploadError(f"The table has {frame.shape[1]} column(s), but a response, a group and a covariate "
                          "need three. Check the separator between values, or add the missing columns.")
    if len(frame) == 0:
        raise UploadError("The file has a header row but no data rows. Add the data and upload it again.")
    frame = _tidy_text(frame)
    if decimal == ",":
        notes.append("Numbers were read with a decimal comma (2,5 = 2.5), as the values are separated by semicolons.")
    digest = hashlib.sha256(raw).hexdigest()[:16]
    clean_name = re.sub(r"[\x00-\x1f]", "", str(file_name)).strip()[:80] or "uploaded.csv"
    return ParsedTable(frame, clean_name, digest, encoding, delimiter, decimal, tuple(notes + name_notes))


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
