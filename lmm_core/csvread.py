"""Reading a CSV table safely: one reader for the command line and the web upload.

    table = csvread.read_table(raw_bytes, max_rows=100_000)     # -> CsvTable (frame, encoding, ...)
    raw = csvread.read_file(path, max_bytes)                     # bounded, regular files only

Text in UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252/Latin-1; values separated
by commas, semicolons, tabs or |, detected from the first lines; a decimal comma with semicolons.
Binary files, spreadsheets, PDFs and images are named instead of being decoded. Every problem
raises ``CsvError`` (a ``DataError``) with a message that says what is wrong and what to do.
Nothing read is evaluated: text is parsed by ``csv`` and ``pandas.read_csv`` only.
"""
from __future__ import annotations

import csv
import io
import os
import re
import stat
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import DataError

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


class CsvError(DataError):
    """The file or text cannot be read as a table; the message says why and what to do."""


@dataclass(frozen=True)
class CsvTable:
    frame: pd.DataFrame
    encoding: str
    delimiter: str
    decimal: str
    notes: tuple[str, ...] = ()

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))


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


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def check_bytes(raw: bytes, max_bytes: int | None = None) -> None:
    """Refuse raw bytes that are too many, empty, or a known non-CSV format."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise CsvError(
            f"The file is {_megabytes(len(raw))}; the limit is {_megabytes(max_bytes)}. Keep only the columns "
            "the model needs, or a sample of the rows, and try again."
        )
    if not raw.strip():
        raise CsvError("The file is empty. Choose a CSV file with a header row and at least a few rows of data.")
    for magic, kind in _SIGNATURES.items():
        if raw.startswith(magic):
            raise CsvError(
                f"This looks like {kind}, not a CSV text file. In a spreadsheet program use "
                "File > Save as > 'CSV (comma-separated values)', then use that file."
            )


def read_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (devices, pipes and folders are refused;
    never more than ``max_bytes + 1`` bytes are read, whatever the file claims its size is)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CsvError(f"There is no file {path}.") from None
    except OSError as exc:
        raise CsvError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise CsvError(f"{path} is a folder, not a CSV file.")
    if not stat.S_ISREG(info.st_mode):
        raise CsvError(f"{path} is not a regular file (a device, a pipe or a socket): give a CSV file.")
    if info.st_size > max_bytes:
        raise CsvError(f"{path} is {_megabytes(info.st_size)}; the limit is {_megabytes(max_bytes)}. Use a "
                       "sample of the rows, or only the columns the model needs.")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise CsvError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if len(raw) > max_bytes:
        raise CsvError(f"{path} is larger than the limit of {_megabytes(max_bytes)}. Use a sample of the rows.")
    return raw


def _decode(raw: bytes) -> tuple[str, str, list[str]]:
    """Text, encoding and notes. UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "UTF-16", []
        except UnicodeDecodeError:
            raise CsvError("The file says it is UTF-16 text but cannot be read as such. Save it as UTF-8 CSV.")
    if b"\x00" in raw[:4096]:
        raise CsvError(
            "This is a binary file, not a CSV text file. Export the data as CSV (UTF-8) and use that file."
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
        raise CsvError(
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
        raise CsvError("The first row (the column names) could not be read. Check the file's first line.")


def _read_frame(text: str, delimiter: str, max_rows: int, text_columns) -> tuple[pd.DataFrame, str, list[str]]:
    decimal = "," if delimiter == ";" and _DECIMAL_COMMA.search(text[:20000]) else "."
    names, notes = _clean_names(_header(text, delimiter))
    as_text = text_columns(list(names)) if callable(text_columns) else text_columns
    dtype = {c: str for c in as_text or () if c in names} or None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # e.g. rows longer than the header
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=dtype, decimal=decimal, nrows=max_rows + 1, names=names,
                                header=0, index_col=False,
                                skipinitialspace=True, na_values=["NA", "N/A", "n/a", "na", "."], engine="c",
                                low_memory=False, on_bad_lines="error")
    except pd.errors.ParserWarning:
        raise CsvError(
            f"Some rows have more values than the first row has column names ({len(names)}). Give every column "
            f"a name, and check that the {DELIMITERS[delimiter]} is not also used inside values."
        ) from None
    except pd.errors.EmptyDataError:
        raise CsvError("The file has no table in it. Choose a CSV file with a header row and data rows.")
    except pd.errors.ParserError as exc:
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc)).strip()
        raise CsvError(
            f"The file could not be read as a table ({detail}). Every row must have the same number of "
            f"values, separated by the same character ({DELIMITERS[delimiter]} here)."
        ) from None
    except (ValueError, UnicodeError, MemoryError, OverflowError) as exc:
        raise CsvError(f"The file could not be read as a table: {exc}. Check that it is a CSV file.") from None
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


def read_table(raw: bytes, *, max_bytes: int | None = None, max_rows: int = 1_000_000,
               max_columns: int = 1_000, text_columns=()) -> CsvTable:
    """Read CSV bytes into a table, or raise CsvError saying what to change. ``text_columns``
    (names, or a function of the cleaned column names giving names) are read as text."""
    if not isinstance(raw, (bytes, bytearray)):
        raise CsvError("Nothing was given to read. Choose a CSV file.")
    raw = bytes(raw)
    check_bytes(raw, max_bytes)
    text, encoding, notes = _decode(raw)
    text = re.sub(r"^(?:[ \t]*\r?\n)+", "", text)  # blank lines before the header
    delimiter = _detect_delimiter(text)
    frame, decimal, name_notes = _read_frame(text, delimiter, max_rows, text_columns)
    if len(frame) > max_rows:
        raise CsvError(f"The file has more than {max_rows:,} rows, the limit here. Use a sample of the rows.")
    if frame.shape[1] > max_columns:
        raise CsvError(f"The file has {frame.shape[1]} columns; the limit is {max_columns}. Keep only the "
                       "columns the model needs.")
    if len(frame) == 0:
        raise CsvError("The file has a header row but no data rows. Add the data and try again.")
    frame = _tidy_text(frame)
    if decimal == ",":
        notes.append("Numbers were read with a decimal comma (2,5 = 2.5), as the values are separated by semicolons.")
    return CsvTable(frame, encoding, delimiter, decimal, tuple(notes + name_notes))
