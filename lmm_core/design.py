"""From a data frame and a parsed formula to the arrays a mixed model needs.

Mirrors what lme4's ``lFormula`` does: keep the complete rows of the columns the
formula uses, turn grouping columns into factors, build X with lme4's column
names (dropping rank-deficient columns as lme4 does), and build each random
term's columns Z_k with the group index of every row.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from formulaic import model_matrix

from . import limits
from .errors import DataError, FormulaError
from .formula import ParsedFormula, RandomTerm, parse_formula

# The functions formulaic may call; the parser only lets these names through.
_CONTEXT = {"log": np.log, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt}

RANK_TOLERANCE = 1e-7  # lme4/R's qr() tolerance
_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")  # formulaic colours its messages for terminals


@dataclass
class TermData:
    """The random term ``(expr | group)`` as arrays: Z (n × q) and each row's group."""

    Z: np.ndarray
    codes: np.ndarray  # group index of each row, 0..len(levels)-1
    levels: list[str]
    names: list[str]  # lme4 column names, e.g. ["(Intercept)", "Days"]
    group: str  # grouping factor name, e.g. "Subject" or "g2:g1"
    label: str = ""
    spec: object = None  # formulaic ModelSpec of expr, for predictions

    @property
    def q(self) -> int:
        return self.Z.shape[1]

    @property
    def n_levels(self) -> int:
        return len(self.levels)


@dataclass
class Design:
    y: np.ndarray
    X: np.ndarray
    fixed_names: list[str]
    terms: list[TermData]
    response_name: str = "y"
    formula: ParsedFormula | None = None
    frame: pd.DataFrame | None = None  # the complete rows used, original index kept
    n_dropped: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    fixed_spec: object = None
    kept_columns: np.ndarray | None = None  # indices of X's formulaic columns kept


def _get_frame(self) -> pd.DataFrame | None:
    frame = self.__dict__.get("_frame")
    if frame is None and self.__dict__.get("_columns") is not None:
        frame = self._frame = self._columns.frame()
    return frame


def _set_frame(self, frame) -> None:
    self.__dict__["_frame"] = frame


# ``frame`` is built on first use: most fits never ask for it, and a data frame costs as much as
# the rest of the design of a small model. (Set after @dataclass, whose __init__ assigns through it.)
Design.frame = property(_get_frame, _set_frame, doc="the complete rows used, original index kept")


# -- names ------------------------------------------------------------------
_BRACKET = re.compile(r"^(.*)\[(?:T\.)?(.*)\]$")


_POLY = re.compile(r"^C\((.*), contr\.poly\)$")


def lme4_name(formulaic_name: str) -> str:
    """``Intercept`` -> ``(Intercept)``, ``sex[T.male]`` -> ``sexmale``, parts of ``a:b`` alike;
    an ordered factor's polynomial columns ``C(temp, contr.poly)[.L]`` -> ``temp.L`` (``temp^4``)."""
    if formulaic_name == "Intercept":
        return "(Intercept)"
    parts = []
    for part in _split_interaction(formulaic_name):
        part = part.replace("`", "")
        m = _BRACKET.match(part)
        if m:
            base = m.group(1)
            poly = _POLY.match(base)
            parts.append((poly.group(1) if poly else base) + m.group(2))
        else:
            parts.append(part)
    return ":".join(parts)


def _ordered_factors(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns
            if isinstance(frame[c].dtype, pd.CategoricalDtype) and frame[c].cat.ordered]


def with_poly_contrasts(spec: str, frame: pd.DataFrame) -> str:
    """R codes an ordered factor with polynomial contrasts (contr.poly), an unordered one with
    treatment contrasts: wrap each ordered factor of ``spec`` in formulaic's ``C(x, contr.poly)``."""
    for name in _ordered_factors(frame):
        spec = spec.replace(f"`{name}`", f"C(`{name}`, contr.poly)")
    return spec


def _split_interaction(name: str) -> list[str]:
    """Split at ':' that are not inside [...] (factor levels may contain ':')."""
    parts, depth, cur = [], 0, ""
    for ch in name:
        depth += ch == "["
        depth -= ch == "]"
        if ch == ":" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


# -- factors ----------------------------------------------------------------
def format_level(v) -> str:
    """A numeric level as R prints it in a factor label: 308 -> "308", 1.5 -> "1.5"."""
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def factor_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and level labels, with levels ordered as R's factor() would order them."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        array = column.array  # the Categorical itself: cheaper than the .cat accessor
        codes = array.codes.astype(np.int64)
        categories = array.categories
        if codes.size and codes.min() >= 0 and np.bincount(codes, minlength=len(categories)).all():
            # every level used: nothing to drop (the usual case)
            return codes, [str(c) for c in categories.to_numpy(dtype=object)]
        cat = column.cat.remove_unused_categories()
        return cat.cat.codes.to_numpy(np.int64), [str(c) for c in cat.cat.categories]
    if pd.api.types.is_bool_dtype(column):
        values = column.map({False: "FALSE", True: "TRUE"})
        uniques = sorted(values.unique())
        return pd.Categorical(values, categories=uniques).codes.astype(np.int64), uniques
    if pd.api.types.is_numeric_dtype(column):
        uniques, codes = np.unique(column.to_numpy(), return_inverse=True)
        return codes.astype(np.int64), [format_level(u) for u in uniques]
    # np.unique sorts the labels as sorted() does (Python's string order) and is several times
    # cheaper than building a Categorical (a fixed cost of every fit with a text grouping column)
    text = column if isinstance(column.dtype, pd.StringDtype) else column.astype(str)
    uniques, codes = np.unique(text.to_numpy(dtype=object), return_inverse=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def group_codes(frame: pd.DataFrame, factors: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """The interaction of one or more factors; levels ordered by the first factor, then the next."""
    codes, levels = factor_codes(frame[factors[0]])
    for name in factors[1:]:
        c2, l2 = factor_codes(frame[name])
        combined = codes * len(l2) + c2
        present, codes = np.unique(combined, return_inverse=True)
        levels = [f"{levels[p // len(l2)]}:{l2[p % len(l2)]}" for p in present]
    return codes.astype(np.int64), levels


# -- building ---------------------------------------------------------------
def _categorise(frame: pd.DataFrame, names) -> pd.DataFrame:
    """Text and logical columns become factors holding only the levels present."""
    for name in names:
        col = frame[name]
        if _is_numeric(col):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            frame[name] = col.cat.remove_unused_categories()
        elif pd.api.types.is_bool_dtype(col):
            frame[name] = pd.Categorical(col.map({False: "FALSE", True: "TRUE"}))
        elif not pd.api.types.is_numeric_dtype(col):
            values = col.astype(str)
            frame[name] = pd.Categorical(values, categories=sorted(values.unique()))
    return frame


def _is_numeric(col: pd.Series) -> bool:
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iufcbOUS":  # plain numpy columns: no pandas call
        return dtype.kind in "iufc"
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _missing(col: pd.Series) -> np.ndarray | None:
    """Which entries of ``col`` are missing (None when none can be: integer columns)."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iub":
            return None
        if dtype.kind == "f":
            return np.isnan(col.to_numpy())
    elif isinstance(dtype, pd.CategoricalDtype):
        return col.array.codes < 0
    return col.isna().to_numpy(dtype=bool)


class _Columns:
    """The columns a formula uses, each taken out of the data frame once, with the rows kept.

    pandas builds a new Series on every ``frame[name]`` (about 10 µs): the builders ask for the
    same few columns a dozen times per fit, so they read them from here. It offers what the
    builders use of a data frame (``[name]``, ``columns``, ``len``); ``frame()`` makes the real one
    (for formulaic, and for ``Design.frame``) when it is needed.
    """

    def __init__(self, series: dict[str, pd.Series]):
        self.series = series
        self.columns = list(series)
        self.n = len(next(iter(series.values()))) if series else 0
        self._frame = None

    def __getitem__(self, name: str) -> pd.Series:
        return self.series[name]

    def __setitem__(self, name: str, values) -> None:
        self.series[name] = values if isinstance(values, pd.Series) else pd.Series(
            values, index=next(iter(self.series.values())).index, name=name)
        self._frame = None

    def __len__(self) -> int:
        return self.n

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = pd.DataFrame(self.series, columns=self.columns)
        return self._frame


class SimpleSpec:
    """Model-matrix spec for the common case: numeric columns added up, with or without an intercept.

    Built without formulaic (which costs milliseconds per matrix) so that refits on every
    slider move stay fast; it offers the one method of formulaic's ModelSpec the engine uses.
    """

    def __init__(self, intercept: bool, columns: list[str]):
        self.intercept = intercept
        self.columns = columns
        self.names = (["Intercept"] if intercept else []) + columns

    def values(self, data: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(data), len(self.names)))
        if self.intercept:
            out[:, 0] = 1.0
        for j, c in enumerate(self.columns, start=int(self.intercept)):
            out[:, j] = data[c].to_numpy(dtype=float)
        return out

    def get_model_matrix(self, data: pd.DataFrame, na_action=None) -> pd.DataFrame:
        return pd.DataFrame(self.values(data), columns=self.names, index=data.index)


_SIMPLE_ITEM = re.compile(r"^(?:`([^`]+)`|(0|1|- 1))$")


def simple_spec(spec: str, frame: pd.DataFrame) -> SimpleSpec | None:
    """A SimpleSpec when ``spec`` only adds numeric columns (and 0/1/-1), else None."""
    intercept, columns = True, []
    for i, item in enumerate(spec.split(" + ")):
        m = _SIMPLE_ITEM.match(item.strip())
        if m is None:
            return None
        name, number = m.groups()
        if number is not None:
            if number == "1":
                intercept = True
            elif number == "0" or number == "- 1":
                intercept = False
            continue
        if name in columns or not _is_numeric(frame[name]):
            return None
        columns.append(name)
    return SimpleSpec(intercept, columns)


class _Matrix:
    """What the builders need from a model matrix, whichever way it was made."""

    def __init__(self, values: np.ndarray, columns: list[str], spec):
        self.values, self.columns, self.model_spec = values, columns, spec
        self.shape = values.shape


def _matrix(spec: str, frame: pd.DataFrame, what: str) -> _Matrix:
    simple = simple_spec(spec, frame)
    if simple is not None:
        return _Matrix(simple.values(frame), simple.names, simple)
    try:
        data = frame.frame() if isinstance(frame, _Columns) else frame
        mm = model_matrix(with_poly_contrasts(spec, data), data, context=_CONTEXT, na_action="ignore")
    except Exception as exc:  # formulaic's own errors, re-said in plain words
        reason = _ANSI.sub("", str(exc)).splitlines()[0].replace("`", "")
        raise FormulaError(f"Could not build the {what} from '{spec.replace('`', '')}': {reason}") from None
    return _Matrix(mm.to_numpy(dtype=float), list(mm.columns), mm.model_spec)


def independent_columns(X: np.ndarray, tol: float = RANK_TOLERANCE) -> np.ndarray:
    """Indices of the columns to keep: a column that the earlier ones explain is dropped (R's qr order)."""
    keep: list[int] = []
    basis = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        x = X[:, j]
        norm = np.linalg.norm(x)
        if norm == 0:
            continue
        r = x - basis @ (basis.T @ x)
        r = r - basis @ (basis.T @ r)  # second pass for stability
        rn = np.linalg.norm(r)
        if rn > tol * norm:
            keep.append(j)
            basis = np.column_stack([basis, r / rn])
    return np.array(keep, dtype=np.int64)


def check_finite(frame: pd.DataFrame, names) -> None:
    for name in names:
        col = frame[name]
        if _is_numeric(col):
            values = col.to_numpy(dtype=float)
            bad = ~np.isfinite(values)
            if bad.any():
                raise DataError(
                    f"Column '{name}' has {int(bad.sum())} infinite value(s) (e.g. row {col.index[bad][0]}). "
                    "Replace or remove them."
                )


# -- sizes, checked before any matrix is built -------------------------------------------------
def _levels(col: pd.Series) -> int:
    """How many columns a variable can contribute to one term: 1 if numeric, else its levels."""
    if _is_numeric(col):
        return 1
    if isinstance(col.dtype, pd.CategoricalDtype):
        return len(col.cat.categories)
    return int(col.nunique(dropna=True))


def _columns_of(terms, frame: pd.DataFrame) -> int:
    """An upper bound of the model-matrix columns of these terms (each term: the product of its
    variables' levels; numeric variables and transforms count 1), plus one for an intercept."""
    total = 1
    for term in terms:
        width = 1
        for name in term:
            if name in frame.columns:
                width *= max(1, _levels(frame[name]))
        total += width
    return total


def check_size(parsed: ParsedFormula, frame: pd.DataFrame, limit: limits.Limits | None = None) -> None:
    """Refuse a design larger than the limits, from the column counts alone (nothing is built)."""
    active = limits.resolve(limit)
    n = len(frame)
    fixed_vars = {name for term in parsed.fixed_terms for name in term if name in frame.columns}
    for name in sorted(fixed_vars):
        col = frame[name]
        if not _is_numeric(col) and _levels(col) > active.factor_levels:
            limits.refuse("factor_levels",
                          f"Column '{name}' has {limits.count(_levels(col))} different values, and as a fixed effect "
                          f"each value would get its own column (at most {limits.count(active.factor_levels)} "
                          f"are allowed here). If '{name}' identifies groups, use it as a random effect, e.g. "
                          f"(1 | {name}); if it holds numbers, check that the file's numbers were read as numbers.")
    p = _columns_of(parsed.fixed_terms, frame)
    if p > active.fixed_columns:
        limits.refuse("fixed_columns",
                      f"The fixed-effects part would have about {limits.count(p)} columns (each level of a text "
                      f"column and each product of them is one), more than the {limits.count(active.fixed_columns)} "
                      "allowed here. Use fewer or simpler fixed effects, or move grouping columns into a "
                      "random-effects term.")
    if n * p > active.x_cells:
        limits.refuse("x_cells",
                      f"The fixed-effects matrix would have {limits.count(n)} rows × {limits.count(p)} columns = "
                      f"{limits.count(n * p)} numbers, more than the {limits.count(active.x_cells)} allowed here. "
                      "Use fewer fixed effects, or a sample of the rows.")
    q_total = 0
    for term in parsed.random:
        q = _columns_of(term.column_terms, frame)
        if q > active.random_columns:
            limits.refuse("random_columns",
                          f"The random-effects term ({term.label}) would have about {limits.count(q)} columns, more "
                          f"than the {active.random_columns} allowed for one term here. Use a numeric covariate "
                          "(or a text column with few values) before the bar.")
        q_total += q
    if n * q_total > active.z_cells:
        limits.refuse("z_cells",
                      f"The random-effects matrices would have {limits.count(n)} rows × {limits.count(q_total)} "
                      f"columns = {limits.count(n * q_total)} numbers, more than the "
                      f"{limits.count(active.z_cells)} allowed here. Use fewer random-effects terms, or a sample "
                      "of the rows.")


def build_design(formula: str | ParsedFormula, data: pd.DataFrame, limit: limits.Limits | None = None) -> Design:
    """Model arrays for ``formula`` on ``data``; raises FormulaError or DataError, or LimitError
    (before anything is built) for a design beyond ``limit`` (the limits in force by default)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError("The data must be a table (a pandas DataFrame).")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise DataError("The data set is empty: it has no rows or no columns.")
    if not all(isinstance(c, str) for c in data.columns):
        data = data.rename(columns=str)
    parsed = formula if isinstance(formula, ParsedFormula) else _parse(formula, data.columns, limit)
    used = list(parsed.variables)

    series = {name: data[name] for name in used}  # each column taken out once
    masks = [(name, m) for name, m in ((name, _missing(col)) for name, col in series.items()) if m is not None]
    n_dropped = 0
    if any(m.any() for _, m in masks):
        for name, m in masks:
            if m.all():
                raise DataError(f"Column '{name}' has no values at all (every entry is missing).")
        complete = ~np.logical_or.reduce([m for _, m in masks])
        n_dropped = int(complete.size - complete.sum())
        series = {name: col[complete] for name, col in series.items()}
    frame = _Columns(series)
    if len(frame) == 0:
        raise DataError("No row has values for all the columns the model uses.")
    check_finite(frame, used)

    messages = []
    if n_dropped:
        messages.append(f"{n_dropped} row(s) with missing values were dropped (as lme4 does).")

    grouping = set(parsed.grouping_columns)
    frame = _categorise(frame, [n for n in used if n not in grouping])
    check_size(parsed, frame, limit)

    y = _response(parsed, frame)
    X, fixed_names, spec, kept, dropped = _fixed(parsed, frame)
    if dropped:
        messages.append(
            f"The fixed-effects matrix is rank deficient, so {len(dropped)} column(s) were dropped "
            f"(as lme4 does): {', '.join(dropped)}."
        )
    terms = [_random_term(t, frame) for t in parsed.random]
    design = Design(
        y=y, X=X, fixed_names=fixed_names, terms=terms,
        response_name=parsed.response.replace("`", "").replace(" ", ""),
        formula=parsed, frame=None, n_dropped=n_dropped, dropped_columns=dropped,
        messages=messages, fixed_spec=spec, kept_columns=kept,
    )
    design._columns = frame  # Design.frame is built from it when first asked for
    return design


@functools.lru_cache(maxsize=256)
def _parse_cached(formula: str, columns: tuple[str, ...], limit: limits.Limits) -> ParsedFormula:
    return parse_formula(formula, columns, limit)


def _parse(formula: str, columns, limit: limits.Limits | None) -> ParsedFormula:
    """parse_formula, remembered per formula text, column names and limits (the parse is a fixed
    cost of every refit of the same formula; ParsedFormula is immutable)."""
    if not isinstance(formula, str):
        return parse_formula(formula, columns, limit)
    return _parse_cached(formula, tuple(columns), limits.resolve(limit))


def _response(parsed: ParsedFormula, frame: pd.DataFrame) -> np.ndarray:
    for name in parsed.variables:
        if f"`{name}`" in parsed.response and not _is_numeric(frame[name]):
            sample = frame[name].astype(str).iloc[0]
            raise DataError(
                f"The response '{name}' must be numeric, but it holds text such as '{sample}'. "
                "Choose a numeric column to explain."
            )
    mm = _matrix("0 + " + parsed.response, frame, "response")
    if mm.shape[1] != 1:
        raise DataError("The response must be a single numeric column.")
    y = mm.values[:, 0]
    if not np.all(np.isfinite(y)):
        raise DataError("The response has values that are not finite numbers after the transform (e.g. log of 0).")
    return y


def _fixed(parsed: ParsedFormula, frame: pd.DataFrame):
    mm = _matrix(parsed.fixed, frame, "fixed-effects matrix")
    X = mm.values
    if not np.all(np.isfinite(X)):
        raise DataError("A fixed-effects column is not finite after its transform (e.g. log of 0 or sqrt of a negative).")
    names = [lme4_name(c) for c in mm.columns]
    kept = independent_columns(X)
    dropped = [names[j] for j in range(len(names)) if j not in set(kept.tolist())]
    return X[:, kept], [names[j] for j in kept], mm.model_spec, kept, dropped


def _random_term(term: RandomTerm, frame: pd.DataFrame) -> TermData:
    mm = _matrix(term.expr, frame, f"random-effects term ({term.label})")
    Z = mm.values
    if Z.shape[1] == 0:
        raise FormulaError(f"The random-effects term ({term.label}) has no columns.")
    if not np.all(np.isfinite(Z)):
        raise DataError(f"The random-effects term ({term.label}) has values that are not finite numbers.")
    codes, levels = group_codes(frame, term.factors)
    return TermData(
        Z=Z, codes=codes, levels=levels, names=[lme4_name(c) for c in mm.columns],
        group=term.group_name, label=term.label, spec=mm.model_spec,
    )
