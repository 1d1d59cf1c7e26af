"""The linear mixed model and its profiled criterion, as functions of θ alone.

    y = X β + Z b + ε,   b = Λθ u,   u ~ N(0, σ² I),   ε ~ N(0, σ² I)

For a given θ the kernel solves the penalized least-squares problem; β and σ
are then profiled out, so the optimizer only searches over θ (Bates et al.
2015, sections 3.4-3.6):

    ML:   d(θ) = log|L|² + n (1 + log(2π r²/n))
    REML: d(θ) = log|L|² + log|R_X|² + (n-p) (1 + log(2π r²/(n-p)))

where r² is the penalized residual sum of squares.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from . import limits
from .design import Design, TermData, build_design
from .errors import DataError, FitError
from .blocked import BlockedKernel
from .kernels import OneFactorKernel, lower_block, theta_pattern
from .lbfgsb import lbfgsb

BIG = 1e100  # criterion value for a θ where the factorisation fails


@dataclass
class Optimum:
    theta: np.ndarray
    objective: float
    converged: bool
    evaluations: int
    message: str
    theta_scaled: np.ndarray | None = None  # θ in the optimizer's scaled parameters, as it was evaluated


def _column_scales(Z: np.ndarray) -> np.ndarray:
    """Root-mean-square of each column (1 for an all-zero column)."""
    rms = np.sqrt(np.mean(Z * Z, axis=0))
    return np.where(rms > 0, rms, 1.0)


def lme4_term_order(terms: list[TermData]) -> list[TermData]:
    """lme4 sorts terms by decreasing number of levels (only when the counts differ)."""
    nl = [t.n_levels for t in terms]
    if any(b > a for a, b in zip(nl, nl[1:])):
        order = list(reversed(np.argsort(nl, kind="stable")))
        return [terms[i] for i in order]
    return list(terms)


def check_terms(terms: list[TermData], n: int) -> None:
    if not terms:
        raise DataError("The formula has no random-effects term. Add one, e.g. (1 | group).")
    for t in terms:
        if t.n_levels < 2:
            raise DataError(
                f"The grouping factor '{t.group}' has only {t.n_levels} level: a random effect needs at least "
                "2 groups (and realistically many more)."
            )
        if t.n_levels >= n:
            raise DataError(
                f"The grouping factor '{t.group}' has as many levels ({t.n_levels}) as there are observations "
                f"({n}): every row is its own group, so the group variance cannot be told apart from the residual "
                "variance. Group by a column that repeats."
            )
        if n <= t.n_levels * t.q:
            raise DataError(
                f"The term ({t.label}) has {t.n_levels * t.q} random effects for only {n} observations: the model "
                "has more random-effect parameters than the data can support. Use a simpler term, e.g. (1 | "
                f"{t.group})."
            )


class LinearMixedModel:
    """A model ready to be fitted: its design and the kernel that evaluates the criterion."""

    def __init__(self, design: Design):
        y, X = np.asarray(design.y, float), np.asarray(design.X, float)
        n = y.shape[0]
        if n == 0:
            raise DataError("The data set is empty.")
        if X.shape[0] != n:
            raise DataError("X and y have different numbers of rows.")
        design.terms = lme4_term_order(design.terms)
        check_terms(design.terms, n)
        if n <= X.shape[1]:
            raise DataError(f"Only {n} observations for {X.shape[1]} fixed effects: the model cannot be estimated.")
        self.design = design
        self.y, self.X = y, X
        self.n, self.p = n, X.shape[1]
        self.terms = design.terms
        problem = self._no_noise_left(fixed_only=True)
        if problem:
            raise DataError(problem)
        self.patterns = [theta_pattern(t.q) for t in self.terms]
        sizes = [len(r) for r, _ in self.patterns]
        self.theta_offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        self.n_theta = int(sum(sizes))
        diag = np.concatenate([r == c for r, c in self.patterns])
        self.lower = np.where(diag, 0.0, -np.inf)
        self.theta0 = diag.astype(float)
        # The optimizer works on random-effect columns scaled to unit root-mean-square, so the
        # fit does not depend on a covariate's units (days or hours). With Z = Z̃ D, the same
        # model has T̃ = D T: θ̃ = θ × (the scale of each entry's row).
        self.col_scales = [_column_scales(t.Z) for t in self.terms]
        self.row_scale = np.concatenate([d[r] for d, (r, _) in zip(self.col_scales, self.patterns)])
        self._deadline = limits.Deadline(None)
        self._last = None  # (θ's bytes, reml) and the result of the last criterion evaluation
        self.kernel = self._make_kernel()
        # remembered only while it is small: a crossed model's state holds a dense Q_r × Q_r factor
        self._remember = self.one_factor or self.kernel.Qr <= 500

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame) -> "LinearMixedModel":
        return cls(build_design(formula, data))

    def _make_kernel(self):
        first = self.terms[0]
        one_factor = all(
            t.group == first.group and np.array_equal(t.codes, first.codes) for t in self.terms[1:]
        )
        scaled = [replace(t, Z=t.Z / d) for t, d in zip(self.terms, self.col_scales)]
        if one_factor:
            Z = np.column_stack([t.Z for t in scaled])
            rows, cols, offset = [], [], 0
            for (r, c) in self.patterns:
                rows.append(r + offset)
                cols.append(c + offset)
                offset += r.max() + 1
            self.one_factor = True
            return OneFactorKernel(
                self.y, self.X, Z, first.codes, first.n_levels, np.concatenate(rows), np.concatenate(cols)
            )
        self.one_factor = False
        first_group = self.terms[0].group
        dense = sum(t.n_levels * t.q for t in self.terms if t.group != first_group)
        allowed = limits.current().dense_random_effects
        if dense > allowed:
            limits.refuse("dense_random_effects",
                          f"This model has {limits.count(dense)} random effects in the grouping factors after "
                          f"'{first_group}' ({', '.join(f'{t.n_levels * t.q:,} for {t.group}' for t in self.terms if t.group != first_group)}); "
                          f"they are solved as one dense matrix, which is allowed up to {limits.count(allowed)} here. "
                          "Use fewer grouping factors, or grouping factors with fewer levels.")
        return BlockedKernel(self.y, self.X, scaled, self.theta_offsets, self.patterns)

    def unscale_random(self, parts):
        """Per term (modes, covariances) of the scaled problem -> on the data's scale (b = D⁻¹ b̃)."""
        return [(b / d, cov / np.outer(d, d)) for (b, cov), d in zip(parts, self.col_scales)]

    # -- the criterion ----------------------------------------------------------
    def profiled(self, theta: np.ndarray, reml: bool):
        """Everything at θ (on the data's scale): criterion value, Cholesky pieces and the kernel's state."""
        return self._profiled(np.asarray(theta, float) * self.row_scale, reml)

    def _profiled(self, theta_scaled: np.ndarray, reml: bool):
        key = (theta_scaled.tobytes(), reml)
        last = self._last
        if last is not None and last[0] == key:  # the optimum is evaluated again for its value and results
            return last[1]
        result = self._profiled_now(theta_scaled, reml)
        if self._remember:
            self._last = (key, result)
        return result

    def _profiled_now(self, theta_scaled: np.ndarray, reml: bool):
        logdet_L, Lxy, state = self.kernel.factor(theta_scaled)
        p, n = self.p, self.n
        r2 = Lxy[p, p] ** 2
        if reml:
            logdet_RX = 2.0 * float(np.log(np.diag(Lxy)[:p]).sum())
            dof = n - p
            value = logdet_L + logdet_RX + dof * (1.0 + math.log(2.0 * math.pi * r2 / dof))
        else:
            value = logdet_L + n * (1.0 + math.log(2.0 * math.pi * r2 / n))
        return value, Lxy, state

    def objective(self, theta, reml: bool = True) -> float:
        """REML criterion (or deviance when ``reml=False``) at θ on the data's scale."""
        return self._objective(np.asarray(theta, float) * self.row_scale, reml)

    def _objective(self, theta_scaled, reml: bool = True) -> float:
        """The criterion in the optimizer's (scaled) parameters."""
        self._deadline.check()
        try:
            value = self._profiled(theta_scaled, reml)[0]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return BIG
        return value if np.isfinite(value) else BIG

    def value_and_gradient(self, theta_scaled, reml: bool = True):
        """Criterion and its exact gradient in the scaled parameters (kernels with a gradient);
        BIG and a zero gradient where it fails."""
        theta = theta_scaled
        self._deadline.check()
        try:
            value, Lxy, state = self._profiled(theta, reml)
            grad = self.kernel.gradient(Lxy, state, reml, self.n)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return BIG, np.zeros_like(theta)
        if not (math.isfinite(value) and np.isfinite(grad).all()):
            return BIG, np.zeros_like(theta)
        return value, grad

    def optimize(self, reml: bool = True, start=None) -> Optimum:
        self._deadline = limits.Deadline(limits.current().fit_seconds)
        try:
            return self._optimize(reml, start)
        finally:
            self._deadline = limits.Deadline(None)

    def _optimize(self, reml: bool, start) -> Optimum:
        x0 = self.theta0.copy()  # identity: unit SDs relative to the residual, on the scaled columns
        if start is not None and np.shape(start) == self.theta0.shape:
            x0 = np.asarray(start, float) * self.row_scale  # a start of another shape is ignored
        x0 = np.maximum(x0, self.lower)
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in self.lower]
        analytic = getattr(self.kernel, "has_gradient", True)
        evaluations, res = 0, None
        for _ in range(4):
            with np.errstate(all="ignore"):
                if analytic:
                    res = lbfgsb(lambda x: self.value_and_gradient(x, reml), x0, self.lower,
                                 ftol=1e-12, gtol=1e-6, maxiter=2000, maxls=50)
                else:  # large multi-factor problems: a derivative-free quadratic-model method (like lme4's BOBYQA)
                    res = minimize(
                        self._objective, x0, args=(reml,), method="COBYQA", bounds=bounds,
                        options={"initial_tr_radius": 0.25, "final_tr_radius": 1e-6, "maxfev": 5000},
                    )
            evaluations += int(res.nfev)
            better = self._escape_zero(np.asarray(res.x, float), float(res.fun), reml)
            if better is None:
                break
            x0 = better
        theta_scaled = np.asarray(res.x, float)
        theta = theta_scaled / self.row_scale
        value = self._objective(theta_scaled, reml)
        if value >= BIG:
            raise FitError(self._why_no_fit())
        # L-BFGS-B stops on a line-search failure when rounding noise dominates:
        # that is convergence at the precision available, not a failure.
        converged = bool(res.success) or "ABNORMAL" in str(res.message)
        return Optimum(theta, value, converged, evaluations, str(res.message), theta_scaled)

    def _no_noise_left(self, fixed_only: bool = False) -> str | None:
        """A message when the response leaves no noise to estimate (constant, or explained exactly
        by the fixed effects, or with ``fixed_only=False`` by each group's own line), else None."""
        name = self.design.response_name
        y, X = self.y, self.X
        scale = max(1e-300, float(np.max(np.abs(y))))
        if np.ptp(y) <= 1e-10 * scale:
            return (f"The response '{name}' has the same value ({y[0]:.6g}) in every row used, so there is nothing "
                    "to explain. Choose a response that varies.")
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        if np.max(np.abs(y - X @ beta)) <= 1e-9 * scale:
            return (f"The fixed effects explain the response '{name}' exactly (a perfect fit: no noise is left), so "
                    "the variances cannot be estimated. Check that the response is not a copy or a function of a "
                    "covariate.")
        if fixed_only:
            return None
        if sum(t.n_levels * t.q for t in self.terms) + self.p < self.n:
            import scipy.sparse as sp
            from scipy.sparse.linalg import lsqr

            blocks = [sp.csr_matrix(X)]
            for t in self.terms:
                rows = np.repeat(np.arange(self.n), t.q)
                cols = (t.codes[:, None] * t.q + np.arange(t.q)[None, :]).ravel()
                blocks.append(sp.csr_matrix((t.Z.ravel(), (rows, cols)), shape=(self.n, t.n_levels * t.q)))
            A = sp.hstack(blocks).tocsr()
            solution = lsqr(A, y, atol=1e-14, btol=1e-14, iter_lim=2000)[0]
            if np.max(np.abs(y - A @ solution)) <= 1e-7 * scale:
                return (f"Each group's own line explains the response '{name}' exactly (a perfect fit: no noise is "
                        "left within the groups), so the residual variance is zero and the model cannot be "
                        "estimated. Real measurements always have some noise: check the data.")
        return None

    def _why_no_fit(self) -> str:
        """The message for a criterion that cannot be evaluated anywhere: usually no noise is left."""
        return self._no_noise_left() or (
            "The fit failed: the criterion could not be evaluated at the optimum. The numbers may be too large or "
            "too small for the computer's arithmetic: rescale the columns (e.g. thousands instead of units) and "
            "try again.")

    def _escape_zero(self, theta: np.ndarray, value: float, reml: bool):
        """A standard deviation parameter at exactly 0 has a zero gradient by symmetry (the
        criterion depends on its square), so a gradient method can stop there although the
        optimum is inside. Probe small positive values; return a better start, or None."""
        zero = np.flatnonzero((self.lower == 0) & (theta <= 1e-8))
        if zero.size == 0:
            return None
        best, best_value = None, value - 1e-9 * max(1.0, abs(value))
        steps = (1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0)
        trials = [(i, s) for i in zero for s in steps] + [(zero, s) for s in steps]  # one at a time, then all
        for index, step in trials:
            trial = theta.copy()
            trial[index] = step
            v = self._objective(trial, reml)
            if v < best_value:
                best, best_value = trial, v
        return best

    def fit(self, reml: bool = True, start=None):
        from .results import LmerFit

        fit = LmerFit(self, self.optimize(reml, start), reml)
        self._last = None  # the remembered evaluation can be large (crossed factors' dense block)
        return fit

    # -- public pieces for teaching: the model at a θ of the caller's choosing -----------------
    def relative_factors(self, theta) -> list[np.ndarray]:
        """Per random term (in ``self.terms`` order), the q × q lower-triangular block T of Λθ
        holding that term's part of ``theta``; the term's covariance is σ² T Tᵀ."""
        theta = np.asarray(theta, float)
        return [lower_block(theta[off: off + len(rows)], rows, cols, term.q)
                for term, (rows, cols), off in zip(self.terms, self.patterns, self.theta_offsets)]

    def fit_at(self, theta, reml: bool = True, note: str = "θ held fixed"):
        """The whole fit with θ held at ``theta`` instead of optimised: β̂(θ), σ̂(θ), the
        conditional modes and the criterion at that θ (what the optimiser sees at each step)."""
        from .results import LmerFit

        theta = np.atleast_1d(np.asarray(theta, float))
        if theta.shape != self.theta0.shape:
            raise DataError(f"θ must have {self.n_theta} value(s) for this model.")
        if np.any(theta < self.lower):
            raise DataError("The diagonal entries of θ (relative standard deviations) cannot be negative.")
        value = self.objective(theta, reml)
        return LmerFit(self, Optimum(theta, value, True, 0, note), reml)


def lmer(formula: str, data: pd.DataFrame, reml: bool = True, start=None, limit: limits.Limits | None = None):
    """Fit ``formula`` to ``data`` as lme4's ``lmer`` does. REML by default; ``start`` is a θ to warm-start from;
    ``limit`` bounds the request (default: the limits in force, see ``lmm_core.limits``)."""
    if limit is not None:
        with limits.use(limit):
            return LinearMixedModel.from_formula(formula, data).fit(reml=reml, start=start)
    return LinearMixedModel.from_formula(formula, data).fit(reml=reml, start=start)
