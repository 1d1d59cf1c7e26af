"""Confidence intervals for a fit, as lme4's ``confint()`` gives them (``oldNames = FALSE``).

Two methods:

* ``"Wald"``: estimate ± z·SE for the fixed effects; NA (NaN here) for the variance
  parameters and σ, as lme4 prints them.
* ``"profile"``: profile-likelihood intervals for every parameter: each standard
  deviation and correlation of the random effects, the residual σ and the fixed effects.

The profile follows lme4's ``profile.merMod`` in what it computes, not in code:

* the criterion is the ML deviance, also for a REML fit (lme4 refits by ML first);
* the variance parameters are profiled on lme4's scale: the SDs and correlations of each
  random-effects term and σ (``.sig01, .sig02, ..., .sigma``), the deviance having β
  profiled out but not σ;
* a parameter is held at a value and all the others are re-optimised; the signed root
  ``ζ = sign(x − x̂)·√(deviance − minimum)`` is recorded on a walk outwards from the
  estimate, in steps of about ``ZETA_STEP`` in ζ;
* the interval is where ``|ζ| ≤ z``, ``z = qnorm((1 + level)/2) = √qchisq(level, 1)``.
  lme4 interpolates the walk's points with a spline and inverts it; here the end points
  are solved for exactly (Brent's method on the profile itself, between the two walk
  points that bracket ±z), so they agree with lme4's to its spline's accuracy;
* a walk that reaches a parameter's limit before |ζ| reaches z ends there: the interval
  then ends at 0 (an SD) or at ±1 (a correlation), as lme4 reports it.

A fixed effect βⱼ held at b: the other coefficients are profiled out exactly from the
Cholesky factor of the [X y] block (the penalised cross-products are a quadratic in β), so
only θ is re-optimised, with σ profiled out as in the fit itself.

    from lmm_core import lmer
    fit = lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)
    fit.confint()                      # profile, 95 %
    fit.confint("Wald", level=0.9)
    prof = profile(fit)                # the walks, e.g. to plot ζ against an SD
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.interpolate import CubicSpline

from .errors import LmmError

__all__ = ["confint", "profile", "Profile", "ParameterProfile", "parameter_names", "format_confint",
           "level_labels"]

ZETA_STEP = 0.5  # ζ between walk points (lme4: sqrt(qchisq(0.99, n_par)) / 8, 0.5 for sleepstudy)
MAX_POINTS = 60  # walk points per side at most
MAX_MULT = 10.0  # a step is at most this many times the previous one (lme4's maxmult)
LOWER_DEVIANCE_TOL = 1e-6
INNER_FTOL, INNER_GTOL = 1e-9, 1e-5
INNER_RESTARTS, RESTART_GAIN = 6, 1e-8  # a profile point this far below the ML minimum is reported


# -- names and levels ---------------------------------------------------------------------
def level_labels(level: float) -> list[str]:
    """Column names as R's ``format.perc(c(a, 1 - a), 3)``: '2.5 %', '97.5 %' for 0.95."""
    a = (1.0 - level) / 2.0
    values = [100.0 * a, 100.0 * (1.0 - a)]
    decimals = 0
    for v in values:
        if v == 0 or not math.isfinite(v):
            continue
        digits_right = max(0, 3 - 1 - math.floor(math.log10(abs(v))))
        rounded = round(v, digits_right)
        need = 0
        while need < digits_right and abs(round(rounded, need) - rounded) > 1e-9 * abs(rounded):
            need += 1
        decimals = max(decimals, need)
    return [f"{v:.{decimals}f} %" for v in values]


def _variance_specs(model) -> list[tuple[str, str, int, int, int]]:
    """Per variance parameter (θ order): (name, kind 'sd'|'cor', term index, row, column)."""
    out = []
    for k, (term, (rows, cols)) in enumerate(zip(model.terms, model.patterns)):
        for r, c in zip(rows, cols):
            if r == c:
                out.append((f"sd_{term.names[r]}|{term.group}", "sd", k, int(r), int(c)))
            else:
                out.append((f"cor_{term.names[r]}.{term.names[c]}|{term.group}", "cor", k, int(r), int(c)))
    return out


def parameter_names(fit) -> list[str]:
    """lme4's names with oldNames = FALSE: the SDs and correlations, 'sigma', the fixed effects."""
    return [s[0] for s in _variance_specs(fit.model)] + ["sigma"] + list(fit.fixed_names)


def _select(names: list[str], n_var: int, parm) -> list[str]:
    """``parm`` as lme4 takes it: None (all), a name, names, 'theta_' / 'beta_', or 0-based positions."""
    if parm is None:
        return list(names)
    if isinstance(parm, (str, int, np.integer)):
        parm = [parm]
    chosen: set[str] = set()
    for p in parm:
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            if not 0 <= int(p) < len(names):
                raise LmmError(f"parm position {p} is out of range: the model has {len(names)} parameters.")
            chosen.add(names[int(p)])
        elif p == "theta_":
            chosen.update(names[: n_var + 1])
        elif p == "beta_":
            chosen.update(names[n_var + 1 :])
        elif p in names:
            chosen.add(p)
        else:
            raise LmmError(f"Unknown parameter '{p}'. The model's parameters are: {', '.join(names)}.")
    return [n for n in names if n in chosen]


# -- the profile of one parameter ----------------------------------------------------------
@dataclass
class ParameterProfile:
    """The walk for one parameter: ``curve`` has a row per point, sorted by the parameter:
    columns ``value``, ``zeta`` and every parameter's value there (the profiled-out ones at
    their conditional optimum). ``lower``/``upper`` are the interval at ``level``."""

    name: str
    kind: str  # "sd", "cor", "sigma" or "fixed"
    estimate: float  # the ML estimate
    curve: pd.DataFrame
    lower: float
    upper: float
    level: float
    limits: tuple[float, float]

    def zeta_at(self, values) -> np.ndarray:
        """ζ at ``values`` by cubic-spline interpolation of the walk (lme4's forward spline)."""
        x, z = self.curve["value"].to_numpy(), self.curve["zeta"].to_numpy()
        if len(x) < 2:
            return np.zeros_like(np.asarray(values, float))
        return CubicSpline(x, z, bc_type="natural")(np.asarray(values, float))

    def interval(self, level: float | None = None) -> tuple[float, float]:
        """The interval at ``level``: exact at the level the profile was solved for; at another
        level interpolated from the walk (as lme4's confint of a profile does), limits if beyond it."""
        if level is None or abs(level - self.level) < 1e-12:
            return self.lower, self.upper
        z = float(stats.norm.ppf(0.5 + level / 2.0))
        x, zeta = self.curve["value"].to_numpy(), self.curve["zeta"].to_numpy()
        out = []
        for target, limit in ((-z, self.limits[0]), (z, self.limits[1])):
            side = (zeta <= 0) if target < 0 else (zeta >= 0)
            xs, zs = x[side], zeta[side]
            if len(xs) < 2 or (abs(zs).max() < z):
                out.append(limit if abs(zs).max() < z and limit in xs else math.nan)
                continue
            order = np.argsort(zs)
            out.append(float(np.interp(target, zs[order], xs[order])))
        return out[0], out[1]


@dataclass
class Profile:
    """Every parameter's profile of one fit (lme4's ``profile()`` result)."""

    parameters: dict[str, ParameterProfile]
    base_deviance: float  # the ML deviance at the ML estimates
    level: float
    messages: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> ParameterProfile:
        return self.parameters[name]

    def confint(self, level: float | None = None) -> pd.DataFrame:
        level = self.level if level is None else level
        rows = [self.parameters[n].interval(level) for n in self.parameters]
        return pd.DataFrame(rows, index=list(self.parameters), columns=level_labels(level))

    def frame(self) -> pd.DataFrame:
        """All walks in one long table (lme4's profile data frame): columns .par, value, zeta, ..."""
        parts = [p.curve.assign(**{".par": n}) for n, p in self.parameters.items()]
        return pd.concat(parts, ignore_index=True)


# -- the profiler ----------------------------------------------------------------------------
class _Profiler:
    """Deviance functions of an ML fit on lme4's profiling scale, and the walks over them."""

    def __init__(self, fit):
        ml = fit if not fit.reml else fit.model.fit(reml=False, start=fit.theta)
        self.ml = ml
        m = ml.model
        self.model, self.n, self.p = m, m.n, m.p
        self.base = float(ml.objective)
        self.specs = _variance_specs(m)
        self.n_var = len(self.specs)
        self.var_names = [s[0] for s in self.specs] + ["sigma"]
        self.fixed_names = list(ml.fixed_names)
        self.sigma_hat = float(ml.sigma)
        self.v_hat = self.v_from_theta(ml.theta, ml.sigma)
        self.beta_hat = np.asarray(ml.beta, float)
        self.se_hat = np.sqrt(np.diag(ml._vcov))
        self.theta_hat = np.asarray(ml.theta, float)
        self.lowest = self.base
        kinds = [s[1] for s in self.specs] + ["sigma"]
        self.kinds = kinds
        # the inner optimiser's scale of a relative SD: its random-effect column's scale (as θ's)
        self.several_correlations = any(t.q >= 3 for t in m.terms)
        self.col_scale = np.array([m.col_scales[k][r] if kind == "sd" else 1.0
                                   for (_, kind, k, r, _) in self.specs])

    # -- conversions between θ and (SDs, correlations, σ) --------------------------------
    def v_from_theta(self, theta, sigma) -> np.ndarray:
        v = np.empty(self.n_var + 1)
        m = self.model
        for i, (_, kind, k, r, c) in enumerate(self.specs):
            rows, cols = m.patterns[k]
            off = m.theta_offsets[k]
            T = np.zeros((m.terms[k].q,) * 2)
            T[rows, cols] = theta[off : off + len(rows)]
            S = T @ T.T
            if kind == "sd":
                v[i] = sigma * math.sqrt(S[r, r])
            else:
                den = math.sqrt(S[r, r] * S[c, c])
                v[i] = S[r, c] / den if den > 0 else 0.0
        v[-1] = sigma
        return v

    def theta_from_v(self, v) -> np.ndarray | None:
        """θ of the SDs and correlations in v (σ = v[-1]); None if a correlation matrix is not valid."""
        m = self.model
        sigma = v[-1]
        theta = np.empty(m.n_theta)
        i = 0
        for k, (term, (rows, cols)) in enumerate(zip(m.terms, m.patterns)):
            q, off, size = term.q, m.theta_offsets[k], len(rows)
            seg = v[i : i + size]
            i += size
            if q == 1:
                theta[off] = seg[0] / sigma
                continue
            sd = np.empty(q)
            C = np.eye(q)
            for value, r, c in zip(seg, rows, cols):
                if r == c:
                    sd[r] = value
                else:
                    C[r, c] = C[c, r] = value
            if q == 2:
                rho = C[1, 0]
                Lc = np.array([[1.0, 0.0], [rho, math.sqrt(max(0.0, 1.0 - rho * rho))]])
            else:
                try:
                    Lc = np.linalg.cholesky(C)
                except np.linalg.LinAlgError:
                    return None
            T = sd[:, None] * Lc / sigma
            theta[off : off + size] = T[rows, cols]
        return theta

    # -- deviances --------------------------------------------------------------------------
    def _pieces(self, theta):
        value, Lxy, _ = self.model.profiled(theta, False)
        r2 = float(Lxy[self.p, self.p] ** 2)
        logdet = float(value) - self.n * (1.0 + math.log(2.0 * math.pi * r2 / self.n))
        return logdet, r2, Lxy

    def deviance_v(self, v) -> float:
        """ML deviance at SDs, correlations and σ, with β profiled out (lme4's devfun2)."""
        sigma = v[-1]
        if not sigma > 0:
            return math.inf
        theta = self.theta_from_v(v)
        if theta is None:
            return math.inf
        try:
            with np.errstate(all="ignore"):
                logdet, r2, _ = self._pieces(theta)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError):
            return math.inf
        value = logdet + r2 / sigma**2 + self.n * math.log(2.0 * math.pi * sigma**2)
        return value if math.isfinite(value) else math.inf

    def _fixed_r2(self, Lxy, j: int, b: float):
        """Penalised RSS with βⱼ = b and the other β at their conditional optimum; and those β."""
        p = self.p
        A = Lxy @ Lxy.T
        others = [i for i in range(p) if i != j]
        yy = A[p, p] - 2.0 * b * A[j, p] + b * b * A[j, j]
        if not others:
            return yy, np.zeros(0)
        M = A[np.ix_(others, others)]
        rhs = A[others, p] - b * A[others, j]
        beta = np.linalg.solve(M, rhs)
        return yy - rhs @ beta, beta

    def deviance_fixed(self, theta, j: int, b: float) -> float:
        """ML deviance with βⱼ held at b, σ and the other β profiled out."""
        try:
            with np.errstate(all="ignore"):
                logdet, _, Lxy = self._pieces(theta)
                r2, _ = self._fixed_r2(Lxy, j, b)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError):
            return math.inf
        if not r2 > 0:
            return math.inf
        value = logdet + self.n * (1.0 + math.log(2.0 * math.pi * r2 / self.n))
        return value if math.isfinite(value) else math.inf

    # -- one point of a profile ------------------------------------------------------------
    def _inner(self, f, x0, bounds):
        """Minimise f from x0 within bounds (L-BFGS-B, finite-difference gradient)."""
        if len(x0) == 0:
            return np.zeros(0), f(np.zeros(0))
        lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
        hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])
        x0 = np.clip(x0, lo, hi)
        def value_and_gradient(x):
            """f and its forward-difference gradient (backward at an upper bound)."""
            fx = f(x)
            grad = np.empty_like(x)
            for i in range(len(x)):
                h = 1.5e-8 * max(1.0, abs(x[i]))
                if x[i] + h > hi[i]:
                    h = -h
                step = x.copy()
                step[i] += h
                grad[i] = (f(step) - fx) / h
            if not (math.isfinite(fx) and np.all(np.isfinite(grad))):
                return (fx if math.isfinite(fx) else 1e100), np.zeros_like(x)
            return fx, grad

        def run(start):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = optimize.minimize(value_and_gradient, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                        options={"ftol": INNER_FTOL, "gtol": INNER_GTOL, "maxiter": 500,
                                                 "maxls": 40})
            return np.asarray(res.x, float), float(res.fun)

        x, value = run(x0)
        # L-BFGS-B can stop early in a narrow curved valley (its curvature memory is poor):
        # restart from where it stopped, with a fresh memory, while that still helps
        for _ in range(INNER_RESTARTS):
            x2, value2 = run(x)
            if not value2 < value - RESTART_GAIN:
                if value2 < value:
                    x, value = x2, value2
                break
            x, value = x2, value2
        # An SD at exactly 0 has a zero gradient by symmetry (the deviance depends on its
        # square), so the optimiser can stop there although the optimum is inside: probe
        # small positive values, as the fit itself does, and restart from a better one.
        for _ in range(3):
            zero = [i for i, b in enumerate(bounds) if b[0] == 0.0 and b[1] is None and x[i] <= 1e-4]
            if not zero:
                break
            best, best_value = None, value - 1e-9
            for i in zero:
                for step in (1e-3, 1e-2, 0.1, 0.5):
                    trial = x.copy()
                    trial[i] = step
                    v = f(trial)
                    if v < best_value:
                        best, best_value = trial, v
            if best is None:
                break
            x, value = run(best)
        return x, value

    def _var_point(self, w: int, value: float, start):
        """Hold variance parameter w at ``value``; returns (deviance, inner x, full v).

        The inner optimiser works on the relative scale of the fit itself: x holds each SD
        divided by σ (times its column's scale, as the fit's θ) and the correlations. σ is then
        profiled out exactly when w is a correlation (or an SD held at 0); otherwise it follows
        from w: σ = value, or σ = value / (relative SD w) when w is an SD."""
        kind = self.kinds[w]
        nv = self.n_var
        fixed = [w] if w < nv and (kind == "cor" or value == 0.0) else []
        free = [i for i in range(nv) if i not in fixed]
        cs = self.col_scale

        def relative(x):
            rel = np.empty(nv)
            rel[free] = x
            if fixed:
                rel[w] = value
            return rel / cs

        def deviance(rel):
            theta = self.theta_from_v(np.append(rel, 1.0))
            if theta is None:
                return math.inf, math.nan
            try:
                with np.errstate(all="ignore"):
                    logdet, r2, _ = self._pieces(theta)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError):
                return math.inf, math.nan
            if kind == "sigma":
                sigma = value
            elif fixed:
                sigma = math.sqrt(r2 / self.n)
                value_ = logdet + self.n * (1.0 + math.log(2.0 * math.pi * r2 / self.n))
                return (value_ if math.isfinite(value_) else math.inf), sigma
            else:
                sigma = value / rel[w] if rel[w] > 0 else math.inf
            if not 0 < sigma < math.inf:
                return math.inf, math.nan
            dev = logdet + r2 / sigma**2 + self.n * math.log(2.0 * math.pi * sigma**2)
            return (dev if math.isfinite(dev) else math.inf), sigma

        bounds = []
        for i in free:
            if self.kinds[i] == "cor":
                bounds.append((-1.0, 1.0))
            elif i == w:
                bounds.append((1e-12, None))
            else:
                bounds.append((0.0, None))
        objective = lambda x: deviance(relative(x))[0] - self.base  # noqa: E731
        x, best = self._inner(objective, np.asarray(start, float)[free], bounds)
        if self.several_correlations:
            # with three or more terms per factor the correlations must form a valid (positive
            # definite) matrix, and the inner problem can have more than one local optimum:
            # also start from the ML estimates (the held correlation shrunk until valid), keep the better
            other = self._var_start(w)
            for shrink in (1.0, 0.5, 0.0):
                trial = other.copy()
                trial[[i for i in range(nv) if self.kinds[i] == "cor"]] *= shrink
                if np.isfinite(objective(trial[free])):
                    x2, best2 = self._inner(objective, trial[free], bounds)
                    if best2 < best:
                        x, best = x2, best2
                    break
        rel = relative(x)
        dev, sigma = deviance(rel)
        v = np.append(np.where(np.array(self.kinds[:nv]) == "sd", rel * sigma, rel), sigma)
        v[w] = value
        x_full = rel * cs
        return dev, x_full, v

    def _var_start(self, w: int) -> np.ndarray:
        rel = np.where(np.array(self.kinds[: self.n_var]) == "sd", self.v_hat[:-1] / self.sigma_hat,
                       self.v_hat[:-1])
        return rel * self.col_scale

    def _fixed_point(self, j: int, value: float, start):
        """Hold βⱼ at ``value``; returns (deviance, inner x (scaled θ), θ)."""
        m = self.model
        rs = m.row_scale
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in m.lower]
        x, dev = self._inner(lambda x: self.deviance_fixed(x / rs, j, value) - self.base, start, bounds)
        return dev + self.base, x, x / rs

    # -- the walk -----------------------------------------------------------------------------
    def _row(self, kind_index, value, x, extra) -> dict:
        """Every parameter's value at a profile point."""
        if kind_index[0] == "var":
            v = extra
            theta = self.theta_from_v(v)
            _, _, Lxy = self._pieces(theta)
            beta = self._beta(Lxy)
        else:
            j = kind_index[1]
            theta = extra
            _, _, Lxy = self._pieces(theta)
            r2, rest = self._fixed_r2(Lxy, j, value)
            beta = np.insert(rest, j, value)
            v = self.v_from_theta(theta, math.sqrt(max(r2, 0.0) / self.n))
        row = dict(zip(self.var_names, v))
        row.update(zip(self.fixed_names, beta))
        return row

    def _beta(self, Lxy):
        p = self.p
        if p == 0:
            return np.zeros(0)
        import scipy.linalg as sla

        return sla.solve_triangular(Lxy[:p, :p].T, Lxy[p, :p], lower=False)

    def walk(self, name: str, z: float) -> ParameterProfile:
        if name in self.var_names:
            w = self.var_names.index(name)
            kind = self.kinds[w]
            est = float(self.v_hat[w])
            point = lambda val, start: self._var_point(w, val, start)  # noqa: E731
            start0 = self._var_start(w)
            key = ("var", w)
            if kind == "sd":
                limits = (0.0, math.inf)
                h = 0.05 * (est if est > 1e-3 * self.sigma_hat else self.sigma_hat)
            elif kind == "cor":
                limits = (-1.0, 1.0)
                h = 0.05
            else:
                limits = (0.0, math.inf)
                h = 0.02 * est
        else:
            j = self.fixed_names.index(name)
            kind = "fixed"
            est = float(self.beta_hat[j])
            point = lambda val, start: self._fixed_point(j, val, start)  # noqa: E731
            start0 = self.theta_hat * self.model.row_scale
            key = ("fixed", j)
            limits = (-math.inf, math.inf)
            h = ZETA_STEP * float(self.se_hat[j])

        def zeta_of(val, dev):
            diff = dev - self.base
            if diff < -LOWER_DEVIANCE_TOL:
                self.lowest = min(self.lowest, dev)
            return math.copysign(math.sqrt(max(diff, 0.0)), val - est)

        points = {est: (0.0, start0, self._row(key, est, start0, self.v_hat if key[0] == "var"
                                                 else self.theta_hat))}
        ends = []
        for direction, limit in ((-1.0, limits[0]), (1.0, limits[1])):
            if est == limit or (direction < 0 and est <= limit) or (direction > 0 and est >= limit):
                ends.append(limit)
                continue
            ends.append(self._walk_side(point, zeta_of, est, h, direction, limit, z, start0, key, points))
        values = sorted(points)
        curve = pd.DataFrame([{"value": v, "zeta": points[v][0], **points[v][2]} for v in values])
        return ParameterProfile(name, kind, est, curve, float(ends[0]), float(ends[1]), 0.0, limits)

    def _walk_side(self, point, zeta_of, est, h, direction, limit, z, start0, key, points):
        def evaluate(val, start):
            dev, x, extra = point(val, start)
            zeta = zeta_of(val, dev)
            points[val] = (zeta, x, self._row(key, val, x, extra))
            return zeta, x

        xs, zs, starts = [est], [0.0], [start0]
        val = est + direction * h
        if math.isfinite(limit):
            val = max(val, limit) if direction < 0 else min(val, limit)
        for _ in range(MAX_POINTS):
            zeta, x = evaluate(val, _extrapolate(xs, starts, val))
            xs.append(val), zs.append(zeta), starts.append(x)
            if direction * zeta >= z:
                break
            if val == limit:
                return limit  # the walk reached the parameter's limit inside the interval
            dx, dz = xs[-1] - xs[-2], zs[-1] - zs[-2]
            if dz * direction > 0 and math.isfinite(dz):
                step = ZETA_STEP * dx / abs(dz)
                step = math.copysign(min(abs(step), MAX_MULT * abs(dx)), dx)
            else:  # flat or decreasing: keep going with a larger step
                step = 2.0 * dx
            val = val + step
            if math.isfinite(limit):
                val = max(val, limit) if direction < 0 else min(val, limit)
        else:
            return math.nan  # never reached z: lme4 gives NA too
        # the end point lies between the last two points: solve ζ(x) = ±z there, starting from
        # the spline through the walk (lme4's answer) and refining by safeguarded secant steps
        return self._solve_end(point, zeta_of, xs, zs, starts, direction, z, key, points)

    def _solve_end(self, point, zeta_of, xs, zs, starts, direction, z, key, points):
        lo, hi = xs[-2], xs[-1]  # direction·ζ − z: below 0 at lo, at or above 0 at hi
        glo, ghi = direction * zs[-2] - z, direction * zs[-1] - z
        if ghi == 0.0:
            return hi
        order = np.argsort(xs)
        x_sorted, z_sorted = np.asarray(xs)[order], np.asarray(zs)[order]
        guess = lo - glo * (hi - lo) / (ghi - glo) if math.isfinite(ghi) else 0.5 * (lo + hi)
        if len(xs) >= 3 and np.all(np.diff(z_sorted) > 0):
            spline = CubicSpline(x_sorted, z_sorted)
            a, b = sorted((lo, hi))
            try:
                guess = optimize.brentq(lambda t: direction * float(spline(t)) - z, a, b, xtol=1e-14 * max(1, abs(b)))
            except ValueError:
                pass
        xtol = 1e-9 * max(abs(lo), abs(hi), abs(hi - lo))
        prev = (lo, glo) if abs(glo) < abs(ghi) else (hi, ghi)
        x = guess
        best = None
        for _ in range(30):
            dev, xin, extra = point(x, _extrapolate(xs, starts, x))
            zeta = zeta_of(x, dev)
            gx = direction * zeta - z
            best = (x, zeta, xin, extra)
            if abs(gx) < 1e-9:
                break
            if gx < 0:
                lo, glo = x, gx
            else:
                hi, ghi = x, gx
            px, pg = prev
            step_ok = pg != gx
            new = x - gx * (x - px) / (gx - pg) if step_ok else math.nan
            a, b = sorted((lo, hi))
            if not (a < new < b):
                new = lo - glo * (hi - lo) / (ghi - glo)  # regula falsi inside the bracket
            if not (math.isfinite(new) and a < new < b):
                new = 0.5 * (lo + hi)  # bisection where the profile is infinite (an invalid correlation)
            prev = (x, gx)
            if abs(new - x) < xtol or abs(hi - lo) < xtol:
                x = new
                break
            x = new
        x_end, zeta, xin, extra = best
        points[x_end] = (zeta, xin, self._row(key, x_end, xin, extra))
        return float(x_end)


def _extrapolate(xs, starts, val):
    """A start for the inner optimum at ``val``: linear in the parameter through the last two points."""
    if len(xs) < 2 or xs[-1] == xs[-2]:
        return starts[-1]
    t = (val - xs[-1]) / (xs[-1] - xs[-2])
    return starts[-1] + t * (starts[-1] - starts[-2])


def profile(fit, parm=None, level: float = 0.95) -> Profile:
    """lme4's ``profile()``: the ML deviance profiled over each parameter, walked out to the
    ``level`` interval's ends (exact there). ``parm`` as in ``confint``."""
    if not 0.0 < level < 1.0:
        raise LmmError(f"level must be between 0 and 1, not {level}.")
    prof = _Profiler(fit)
    names = prof.var_names + prof.fixed_names
    chosen = _select(names, prof.n_var, parm)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    out = {}
    for name in chosen:
        pp = prof.walk(name, z)
        pp.level = level
        out[name] = pp
    messages = []
    if prof.lowest < prof.base - LOWER_DEVIANCE_TOL:
        messages.append(f"profiling found a lower deviance ({prof.lowest:.6f} < {prof.base:.6f}): the fit "
                        "had not reached the ML optimum")
    return Profile(out, prof.base, level, messages)


def _wald(fit, level: float) -> pd.DataFrame:
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    var_names = [s[0] for s in _variance_specs(fit.model)] + ["sigma"]
    beta = np.asarray(fit.beta, float)
    se = np.sqrt(np.diag(fit._vcov))
    lower = [math.nan] * len(var_names) + list(beta - z * se)
    upper = [math.nan] * len(var_names) + list(beta + z * se)
    return pd.DataFrame({"lower": lower, "upper": upper}, index=var_names + list(fit.fixed_names))


def confint(fit, method: str = "profile", level: float = 0.95, parm=None) -> pd.DataFrame:
    """Confidence intervals as lme4's ``confint(fit, method=, level=, parm=, oldNames = FALSE)``.

    Rows: ``sd_(Intercept)|Subject``, ``cor_Days.(Intercept)|Subject``, ..., ``sigma``, then
    the fixed effects; columns named for the level as R names them ('2.5 %', '97.5 %').
    ``method`` is "profile" or "Wald" (any case). ``parm``: None (all), a name or names,
    "theta_" (variance parameters and sigma), "beta_" (fixed effects), or 0-based positions.
    """
    if not isinstance(level, (int, float)) or not 0.0 < float(level) < 1.0:
        raise LmmError(f"level must be a number between 0 and 1, not {level!r}.")
    level = float(level)
    how = str(method).lower()
    names = parameter_names(fit)
    n_var = len(_variance_specs(fit.model))
    chosen = _select(names, n_var, parm)
    labels = level_labels(level)
    if how == "wald":
        table = _wald(fit, level).loc[chosen]
        table.columns = labels
        return table
    if how == "profile":
        prof = profile(fit, chosen, level)
        rows = [(prof[n].lower, prof[n].upper) for n in chosen]
        return pd.DataFrame(rows, index=chosen, columns=labels)
    if how == "boot":
        raise LmmError("method='boot' (parametric bootstrap) is not available: use 'profile' or 'Wald'.")
    raise LmmError(f"Unknown method '{method}': use 'profile' or 'Wald'.")


def format_confint(table: pd.DataFrame) -> str:
    """The table as R prints ``confint()``'s matrix: each column with 7 significant digits, NA for missing."""
    from .summary import _print_matrix, format_r

    columns = []
    for c in table.columns:
        values = table[c].to_numpy(float)
        finite = [v for v in values if not math.isnan(v)]
        cells = format_r(finite, digits=7) if finite else []
        it = iter(cells)
        columns.append([next(it) if not math.isnan(v) else "NA" for v in values])
    cells = [[col[i] for col in columns] for i in range(len(table))]
    return "\n".join(_print_matrix(cells, [str(i) for i in table.index], [str(c) for c in table.columns], True))
