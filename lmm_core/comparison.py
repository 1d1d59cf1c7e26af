"""Comparing fitted models as R does, and checking a student's data before a fit.

- ``comparison_table``: number of parameters, log-likelihood, AIC, AICc, BIC and deviance
  of several fits, each on the criterion it was fitted with (R's ``AIC(fit)``).
- ``anova``: the likelihood-ratio test of lme4's ``anova(m1, m2, ...)``: REML fits are
  refitted by maximum likelihood first (and the result says so), models are ordered by
  their number of parameters, and each is tested against the one before it.
- ``check_roles`` / ``check_formula_data``: plain-language checks of a data set before it
  reaches ``lmer``, for the cases the engine would accept silently or explain less well
  (a random slope for a covariate that never changes within a group, a numeric column
  spoilt by a word, closest-name suggestions).
- ``qq_points``: normal quantiles for a Q-Q plot, with R's ``ppoints``.

Everything raises the engine's own errors (``DataError``/``FormulaError``), never anything else.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError, FormulaError, LmmError
from .formula import parse_formula
from .model import lmer

# -- closest names ------------------------------------------------------------------------


def closest_names(name: str, columns, n: int = 3) -> list[str]:
    """Columns that look like ``name``: same letters in another case first, then difflib's matches."""
    columns = [str(c) for c in columns]
    found = [c for c in columns if c.lower() == str(name).lower() and c != name]
    found += [c for c in difflib.get_close_matches(str(name), columns, n=n, cutoff=0.5) if c not in found]
    return found[:n]


def _unknown_column(name: str, columns, role: str) -> DataError:
    hits = closest_names(name, columns)
    hint = (" Did you mean " + " or ".join(f"'{h}'" for h in hits) + "?") if hits else (
        " The columns are: " + ", ".join(f"'{c}'" for c in list(columns)[:12]) + ".")
    return DataError(f"The {role} '{name}' is not a column of the data.{hint}")


# -- checking the columns a model will use -----------------------------------------------
@dataclass
class RolesReport:
    """What ``check_roles`` found: rows usable, rows dropped for missing values, groups."""

    n_rows: int
    n_used: int
    n_dropped: int
    n_groups: int
    notes: list[str] = field(default_factory=list)


def _text_sample(column: pd.Series) -> str | None:
    """The first entry of a mostly-numeric text column that is not a number ('n/a', '12,5'...)."""
    text = column.dropna().astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text[numbers.isna()]
    return str(bad.iloc[0]) if len(bad) and numbers.notna().mean() >= 0.5 else None


def _numeric(frame: pd.DataFrame, name: str, role: str) -> np.ndarray:
    col = frame[name]
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        bad = _text_sample(col)
        if bad is not None:
            row = int(np.flatnonzero(col.astype(str).str.strip().to_numpy() == bad)[0])
            raise DataError(
                f"The {role} '{name}' should hold numbers, but row {row + 1} holds '{bad}'. Write missing "
                "values as an empty cell or NA, and numbers with a decimal point (2.5, not 2,5)."
            )
        example = col.dropna().astype(str).iloc[0] if col.notna().any() else ""
        raise DataError(
            f"The {role} '{name}' must be numeric, but it holds text such as '{example}'. "
            f"Choose a column of numbers as the {role}."
        )
    values = col.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise DataError(
            f"The {role} '{name}' has infinite values (first in row {row + 1}). Replace them with real "
            "numbers or leave the cells empty."
        )
    return values


def check_roles(frame: pd.DataFrame, response: str, group: str, covariate: str | None) -> RolesReport:
    """Check that response, group and covariate can carry the app's models; explain what is wrong.

    Missing values are allowed (their rows are dropped, and counted); the rest must hold.
    """
    if not isinstance(frame, pd.DataFrame) or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError("The data set is empty: it has no rows or no columns.")
    roles = [(response, "response"), (group, "group")] + ([(covariate, "covariate")] if covariate else [])
    for name, role in roles:
        if name not in frame.columns:
            raise _unknown_column(name, frame.columns, role)
        if frame[name].isna().all():
            raise DataError(f"The {role} column '{name}' is empty: every value is missing. Choose another column.")
    names = [n for n, _ in roles]
    if len(set(names)) < len(names):
        raise DataError("Response, group and covariate must be three different columns.")
    keep = np.array(frame[group].notna().to_numpy(), dtype=bool)  # a writable copy
    for name, role in roles:
        if role != "group":
            keep &= ~np.isnan(_numeric(frame, name, role))
    n_used = int(keep.sum())
    if n_used == 0:
        raise DataError("No row has a value in all three chosen columns, so nothing is left to fit.")
    groups = frame[group][keep].astype(str)
    n_groups = int(groups.nunique())
    if n_groups < 2:
        raise DataError(
            f"The group column '{group}' has only one value ('{groups.iloc[0]}'): a mixed model needs at least "
            "two groups, and realistically many more. Choose the column that says which group each row is in."
        )
    if n_groups >= n_used:
        raise DataError(
            f"The group column '{group}' has a different value in every row ({n_groups} values for {n_used} "
            "rows), so no group has more than one observation. Choose a column whose values repeat, such as "
            "a person's or a school's id."
        )
    if covariate:
        x = pd.Series(frame[covariate].to_numpy(dtype=float, na_value=np.nan)[keep])
        spread = x.groupby(groups.to_numpy()).agg(lambda v: v.max() - v.min())
        if (spread <= 1e-12 * max(1.0, float(np.abs(x).max()))).all():
            raise DataError(
                f"The covariate '{covariate}' never changes within a {group}: each {group} has a single value "
                f"of it, so no {group} can have a slope of its own. Choose a covariate that varies within "
                f"groups (such as time), or keep '{covariate}' as a fixed effect in the formula box."
            )
    notes = []
    dropped = len(frame) - n_used
    if dropped:
        notes.append(f"{dropped} of {len(frame)} rows have a missing value in a chosen column and will be left out.")
    return RolesReport(len(frame), n_used, dropped, n_groups, notes)


_BACKTICKED = re.compile(r"`([^`]*)`")


def check_formula_data(formula: str, frame: pd.DataFrame) -> None:
    """Checks the engine leaves to the fit: a random slope whose variable never changes within a group.

    Such a slope is not a slope at all (it duplicates a random intercept), and lme4 fits it
    quietly; here it is an error that says what to do. Syntax and unknown names raise the
    parser's FormulaError, with the position.
    """
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0:
        raise DataError("The data set is empty: it has no rows or no columns.")
    data = frame.rename(columns=str)
    parsed = parse_formula(formula, data.columns)
    rows = data[list(parsed.variables)].dropna()
    if rows.empty:
        return  # the engine explains this one
    for term in parsed.random:
        names = [n for n in dict.fromkeys(_BACKTICKED.findall(term.expr)) if n not in term.factors]
        if not names:
            continue
        groups = [rows[f].astype(str) for f in term.factors]
        sizes = rows.groupby(groups).size()
        if not (sizes > 1).any():
            continue  # one row per group: the engine explains that problem
        for name in names:
            varies = rows[name].astype(str).groupby(groups).nunique() > 1
            if not varies.any():
                by = " and ".join(term.factors)
                raise DataError(
                    f"In ({term.label}), '{name}' never changes within a {by}: each {by} has one value of it, "
                    f"so a slope per {by} cannot be estimated. Remove '{name}' from the random part (it can stay "
                    "a fixed effect), or use a variable that changes within groups."
                )


def checked_lmer(formula: str, data: pd.DataFrame, reml: bool = True):
    """``lmer`` after ``check_formula_data``: every bad input ends in an LmmError."""
    check_formula_data(formula, data)
    return lmer(formula, data, reml=reml)


# -- the comparison table -----------------------------------------------------------------
def aicc(loglik: float, k: int, n: int) -> float:
    """AIC with the small-sample correction 2k(k+1)/(n-k-1); NaN when n <= k + 1."""
    if n - k - 1 <= 0:
        return float("nan")
    return -2.0 * loglik + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1)


def fit_statistics(fit) -> dict:
    """R's AIC/BIC/logLik of one fit, on the criterion it was fitted with (REML or ML)."""
    k, n = int(fit.df), int(fit.nobs)
    return {
        "Fitted by": "REML" if fit.reml else "ML", "npar": k, "nobs": n, "logLik": fit.loglik,
        "AIC": fit.aic, "AICc": aicc(fit.loglik, k, n), "BIC": fit.bic,
        "deviance": float("nan") if fit.reml else fit.deviance,
        "REML criterion": fit.objective if fit.reml else float("nan"),
    }


def comparison_table(named_fits) -> pd.DataFrame:
    """One row per (name, fit): npar, logLik, AIC, AICc, BIC, deviance (ML fits) and ΔAIC."""
    rows = [{"Model": name, **fit_statistics(fit)} for name, fit in named_fits]
    table = pd.DataFrame(rows, columns=["Model", "Fitted by", "npar", "nobs", "logLik", "AIC", "AICc", "BIC",
                                        "deviance", "REML criterion"])
    table["ΔAIC"] = table["AIC"] - table["AIC"].min() if len(table) else []
    return table


# -- the likelihood-ratio test ---------------------------------------------------------------
@dataclass
class AnovaResult:
    """``table``: R's anova() columns (npar, AIC, BIC, logLik, deviance, Chisq, Df, Pr(>Chisq)),
    rows ordered by npar. ``refitted``: names of the models refitted by ML. ``notes``: warnings."""

    table: pd.DataFrame
    refitted: list[str]
    notes: list[str]
    same_fixed_effects: bool = False

    @property
    def refit_message(self) -> str:
        if not self.refitted:
            return "All models were already fitted by maximum likelihood (ML), so none was refitted."
        message = ("Refitting model(s) with ML (instead of REML): " + ", ".join(self.refitted) + ", as R's anova() "
                   "does by default: REML likelihoods are comparable only between models with the same fixed effects.")
        if self.same_fixed_effects:
            # The reason does not apply here, so say so rather than imply it does.
            message += (" These models have the same fixed effects, so their REML criteria could be compared too "
                        "(R: anova(..., refit = FALSE)); the table shows the default, ML.")
        return message


def _parameters(fit) -> tuple[set, set]:
    """Fixed-effect names and the variance parameters (factor, terms) a fit estimates."""
    params = set()
    for vc in fit.varcorr:
        for i, a in enumerate(vc.terms):
            params.add((vc.factor, a))
            for b in vc.terms[:i]:
                params.add((vc.factor, frozenset((a, b))))
    return set(fit.fixed_names), params


def looks_nested(small, big) -> bool:
    """Whether every parameter of ``small`` is also one of ``big`` (same data, same response)."""
    fs, rs = _parameters(small)
    fb, rb = _parameters(big)
    return fs <= fb and rs <= rb


def _ml(fit):
    return fit if not fit.reml else fit.model.fit(reml=False)


def anova(named_fits) -> AnovaResult:
    """Likelihood-ratio tests of nested models, as lme4's anova(): ML refits, ordered by npar."""
    named_fits = list(named_fits)
    if len(named_fits) < 2:
        raise DataError("A likelihood-ratio test needs at least two models.")
    first = named_fits[0][1]
    for name, fit in named_fits[1:]:
        if fit.nobs != first.nobs or not np.array_equal(fit.model.y, first.model.y):
            raise DataError(
                f"'{name}' was fitted to other rows or another response than '{named_fits[0][0]}'. Models can "
                "only be compared on the same observations of the same response."
            )
    refitted = [name for name, fit in named_fits if fit.reml]
    ml = [(name, _ml(fit)) for name, fit in named_fits]
    ml.sort(key=lambda item: item[1].df)  # stable, as R's order(npar)
    rows, notes = [], []
    for i, (name, fit) in enumerate(ml):
        row = {"Model": name, "npar": int(fit.df), "AIC": fit.aic, "BIC": fit.bic, "logLik": fit.loglik,
               "deviance": fit.deviance, "Chisq": np.nan, "Df": np.nan, "Pr(>Chisq)": np.nan}
        if i:
            prev_name, prev = ml[i - 1]
            df = int(fit.df - prev.df)
            chisq = max(2.0 * (fit.loglik - prev.loglik), 0.0)
            row.update({"Chisq": chisq, "Df": df, "Pr(>Chisq)": stats.chi2.sf(chisq, df) if df > 0 else np.nan})
            if df == 0:
                notes.append(f"'{prev_name}' and '{name}' have the same number of parameters: they are not nested, "
                             "so there is no test between them. Compare their AIC or BIC instead.")
            elif not looks_nested(prev, fit):
                notes.append(f"'{prev_name}' does not look nested in '{name}' (it has a parameter the larger model "
                             "lacks), so the p-value is not valid. Compare their AIC or BIC instead.")
        rows.append(row)
    if any(bool(f.singular) for _, f in ml):
        notes.append("At least one fit is on the boundary (a variance of 0): the p-value of a test of a variance "
                     "is then conservative (too large), roughly twice what it should be.")
    same_fixed = all(list(f.fixed_names) == list(first.fixed_names) for _, f in named_fits)
    return AnovaResult(pd.DataFrame(rows), refitted, notes, same_fixed)


def safe_anova(named_fits) -> AnovaResult:
    """``anova`` whose refit failures also end as LmmError."""
    try:
        return anova(named_fits)
    except LmmError:
        raise
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        raise DataError(f"The models could not be refitted by ML: {exc}") from None


# -- Q-Q ---------------------------------------------------------------------------------------
def qq_points(values) -> pd.DataFrame:
    """Sorted values against standard normal quantiles at R's ppoints(n)."""
    v = np.sort(np.asarray(values, float)[np.isfinite(np.asarray(values, float))])
    n = v.size
    if n == 0:
        return pd.DataFrame({"theoretical": [], "sample": []})
    a = 3.0 / 8.0 if n <= 10 else 0.5
    p = (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)
    return pd.DataFrame({"theoretical": stats.norm.ppf(p), "sample": v})


def caterpillar_table(ranef_long: pd.DataFrame) -> pd.DataFrame:
    """random_effects_table rows with each term's levels ranked by their conditional mode."""
    out = ranef_long.copy()
    out["rank"] = out.groupby(["Group", "Term"])["Mode"].rank(method="first").astype(int)
    return out.sort_values(["Group", "Term", "rank"]).reset_index(drop=True)


__all__ = [
    "AnovaResult", "RolesReport", "aicc", "anova", "caterpillar_table", "check_formula_data", "check_roles",
    "checked_lmer", "closest_names", "comparison_table", "fit_statistics", "looks_nested", "qq_points",
    "safe_anova", "FormulaError",
]
