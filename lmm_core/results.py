"""A fitted model: estimates named and shaped as lme4 reports them."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import lapack
from .design import format_level
from .errors import DataError

SINGULAR_TOL = 1e-4  # lme4's isSingular() tolerance


@dataclass
class VarCorrTerm:
    """Variance components of one random-effects term (lme4's VarCorr entry)."""

    group: str  # as lme4 prints it: a repeated factor gets ".1", ".2", ...
    factor: str  # the grouping factor itself
    terms: list[str]
    cov: np.ndarray
    sd: np.ndarray
    corr: np.ndarray


class LmerFit:
    """Results of ``lmer``. Attribute names follow lme4 (fixef, ranef, coef, VarCorr as varcorr, ...)."""

    def __init__(self, model, optimum, reml: bool):
        self.model = model
        self.design = model.design
        self.reml = bool(reml)
        self.optimum = optimum
        self.theta = optimum.theta
        self.converged = optimum.converged
        self.messages = list(self.design.messages)
        n, p = model.n, model.p
        self.nobs = n
        scaled = getattr(optimum, "theta_scaled", None)  # as the optimizer evaluated it: no new evaluation
        if scaled is None:
            scaled = np.asarray(self.theta, float) * model.row_scale
        value, Lxy, state = model._profiled(scaled, self.reml)
        self.objective = float(value)
        RX = Lxy[:p, :p].T  # upper triangular R_X
        self.beta = lapack.solve_triangular(RX, Lxy[p, :p], lower=False) if p else np.zeros(0)
        r2 = Lxy[p, p] ** 2
        self.pwrss = float(r2)
        self.sigma = math.sqrt(r2 / (n - p if self.reml else n))
        RXinv = lapack.inv_upper(RX) if p else np.zeros((0, 0))
        self._vcov = self.sigma**2 * (RXinv @ RXinv.T)
        self._random = model.unscale_random(
            self._split_random(model.kernel.random_effects(scaled, self.beta, state)))
        self.fitted_values = self._linear_predictor()
        lower = model.lower
        self.singular = bool(np.any((lower == 0) & (np.abs(self.theta) < SINGULAR_TOL)))
        if self.singular:
            self.messages.append("boundary (singular) fit: see help('isSingular')")
        if not self.converged:
            self.messages.append(f"The optimizer did not report convergence: {optimum.message}")

    # -- internals --------------------------------------------------------------
    def _split_random(self, kernel_out):
        """Per term: (conditional modes (m, q), unscaled conditional covariances (m, q, q))."""
        terms = self.model.terms
        if self.model.one_factor:
            b, cov = kernel_out
            out, start = [], 0
            for t in terms:
                s = slice(start, start + t.q)
                out.append((b[:, s], cov[:, s, s]))
                start += t.q
            return out
        return kernel_out

    def _linear_predictor(self) -> np.ndarray:
        eta = self.model.X @ self.beta
        for term, (b, _) in zip(self.model.terms, self._random):
            eta = eta + np.einsum("nq,nq->n", term.Z, b[term.codes])
        return eta

    # -- fixed effects ----------------------------------------------------------
    @property
    def fixed_names(self) -> list[str]:
        return list(self.design.fixed_names)

    @property
    def fixef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.fixed_names, name="Estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        return pd.DataFrame(self._vcov, index=self.fixed_names, columns=self.fixed_names)

    @property
    def fixef_se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._vcov)), index=self.fixed_names, name="Std. Error")

    # -- variance components ---------------------------------------------------
    @property
    def varcorr(self) -> list[VarCorrTerm]:
        out, seen = [], {}
        kernel_T = self.relative_factors()
        for term, T in zip(self.model.terms, kernel_T):
            cov = self.sigma**2 * (T @ T.T)
            sd = np.sqrt(np.diag(cov))
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = cov / np.outer(sd, sd)
            np.fill_diagonal(corr, 1.0)
            k = seen.get(term.group, 0)
            seen[term.group] = k + 1
            name = term.group if k == 0 else f"{term.group}.{k}"
            out.append(VarCorrTerm(name, term.group, list(term.names), cov, sd, corr))
        return out

    def relative_factors(self) -> list[np.ndarray]:
        """Per random term, the q × q lower-triangular block T of Λθ at the fitted θ
        (the term's covariance is σ² T Tᵀ)."""
        return self.model.relative_factors(self.theta)

    @property
    def modes_by_term(self) -> list[np.ndarray]:
        """Per random term (in ``model.terms`` order), the conditional modes as a
        (levels × q) array; ``ranef`` is the same, as named tables merged by factor."""
        return [b for b, _ in self._random]

    # -- random effects ---------------------------------------------------------
    def _by_factor(self, which: int) -> dict[str, pd.DataFrame]:
        """Merge terms of the same factor into one table (as lme4's ranef does)."""
        tables: dict[str, list[pd.DataFrame]] = {}
        for term, parts in zip(self.model.terms, self._random):
            b, cov = parts
            values = b if which == 0 else np.sqrt(self.sigma**2 * np.einsum("mii->mi", cov))
            frame = pd.DataFrame(values, index=pd.Index(term.levels, name=term.group), columns=term.names)
            tables.setdefault(term.group, []).append(frame)
        return {g: pd.concat(fs, axis=1) for g, fs in tables.items()}

    @property
    def ranef(self) -> dict[str, pd.DataFrame]:
        """Conditional modes (BLUPs) b = Λθ u, one table per grouping factor."""
        return self._by_factor(0)

    @property
    def ranef_sd(self) -> dict[str, pd.DataFrame]:
        """Conditional standard deviations of the conditional modes (lme4's condVar)."""
        return self._by_factor(1)

    def ranef_condvar(self) -> list[tuple[str, list[str], np.ndarray]]:
        """Per term: (factor, column names, conditional covariances (m, q, q), on the data's scale)."""
        return [
            (t.group, list(t.names), self.sigma**2 * cov) for t, (_, cov) in zip(self.model.terms, self._random)
        ]

    @property
    def coef(self) -> dict[str, pd.DataFrame]:
        """Fixed effects plus each level's conditional modes (lme4's coef)."""
        fe = self.fixef
        out = {}
        for group, re in self.ranef.items():
            table = pd.DataFrame(np.tile(fe.to_numpy(), (len(re), 1)), index=re.index, columns=fe.index)
            for name in re.columns:
                table[name] = (table[name] if name in table else 0.0) + re[name]
            out[group] = table
        return out

    @property
    def ngroups(self) -> dict[str, int]:
        out = {}
        for t in self.model.terms:
            out.setdefault(t.group, t.n_levels)
        return out

    # -- fit statistics -------------------------------------------------------
    @property
    def df(self) -> int:
        return self.model.p + self.model.n_theta + 1

    @property
    def loglik(self) -> float:
        return -0.5 * self.objective

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.df

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.df * math.log(self.nobs)

    @property
    def deviance(self) -> float:
        """-2 log-likelihood at the ML-optimal σ (only defined for ML fits, as in lme4)."""
        return self.objective

    @property
    def fitted(self) -> pd.Series:
        return pd.Series(self.fitted_values, index=self._index(), name="fitted")

    @property
    def residuals(self) -> pd.Series:
        return pd.Series(self.model.y - self.fitted_values, index=self._index(), name="residuals")

    def _index(self):
        frame = self.design.frame
        return frame.index if frame is not None else pd.RangeIndex(self.nobs)

    # -- predictions ----------------------------------------------------------
    def predict(self, newdata: pd.DataFrame | None = None, include_random: bool = True) -> np.ndarray:
        """Predictions for new rows. A level never seen gets the population prediction (its b is 0)."""
        if newdata is None:
            return self.fitted_values.copy() if include_random else self.model.X @ self.beta
        d = self.design
        if d.fixed_spec is None:
            raise DataError("This model was built from arrays; predict() needs a model fitted from a formula.")
        newdata = newdata.rename(columns=str)
        missing = [v for v in d.formula.variables if v not in newdata.columns and v != d.response_name]
        missing = [v for v in missing if f"`{v}`" not in d.formula.response]
        if missing:
            raise DataError(f"newdata lacks the column(s): {', '.join(missing)}.")
        try:
            X = d.fixed_spec.get_model_matrix(newdata, na_action="ignore").to_numpy(float)[:, d.kept_columns]
        except Exception as exc:
            raise DataError(f"Could not build the fixed effects for newdata: {exc}") from None
        eta = X @ self.beta
        if include_random:
            for term, (b, _) in zip(self.model.terms, self._random):
                Z = term.spec.get_model_matrix(newdata, na_action="ignore").to_numpy(float)
                labels = self._labels(newdata, term)
                lookup = {lvl: i for i, lvl in enumerate(term.levels)}
                idx = np.array([lookup.get(lab, -1) for lab in labels])
                known = idx >= 0
                contrib = np.zeros(len(newdata))
                contrib[known] = np.einsum("nq,nq->n", Z[known], b[idx[known]])
                eta = eta + contrib
        return eta

    def _labels(self, newdata: pd.DataFrame, term) -> list[str]:
        factors = term.group.split(":")
        parts = []
        for f in factors:
            col = newdata[f]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                parts.append([format_level(v) for v in col])
            else:
                parts.append([str(v) for v in col])
        return [":".join(p) for p in zip(*parts)]

    # -- confidence intervals -------------------------------------------------------
    def confint(self, method: str = "profile", level: float = 0.95, parm=None) -> pd.DataFrame:
        """lme4's ``confint(fit, method=, level=, parm=, oldNames = FALSE)``: one row per
        parameter (``sd_(Intercept)|Subject``, ``cor_...``, ``sigma``, fixed effects), columns
        named for the level ('2.5 %', '97.5 %'). "profile" (the default, on the ML deviance as
        lme4 does) or "Wald" (NaN for the variance parameters). See lmm_core.intervals."""
        from .intervals import confint

        return confint(self, method=method, level=level, parm=parm)

    # -- reporting --------------------------------------------------------------
    def summary(self, data_name: str | None = None, formula: str | None = None) -> str:
        """lme4's ``summary()`` text; ``formula``: what the ``Formula:`` line shows for a model built
        from arrays (a model fitted from a formula shows that one)."""
        from .summary import format_summary

        return format_summary(self, data_name, formula)

    def __repr__(self) -> str:
        kind = "REML" if self.reml else "ML"
        return f"<LmerFit {self.design.formula.text if self.design.formula else ''} ({kind}) objective={self.objective:.4f}>"

    def to_dict(self) -> dict:
        """The fit as plain JSON-ready data, with the keys and shapes of lme4_reference.json entries."""
        from .report import fit_to_dict

        return fit_to_dict(self)

