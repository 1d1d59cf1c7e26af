"""A thin driver for scipy's L-BFGS-B routine, for the many small fits of the app.

``scipy.optimize.minimize(method="L-BFGS-B")`` wraps the objective in a ScalarFunction,
builds result objects on every iteration and an inverse-Hessian operator at the end:
for a sleepstudy fit (17 evaluations of well under 0.1 ms each) that bookkeeping
cost more than the evaluations. This driver calls the same compiled routine with the
same settings, so it visits the same points and returns the same optimum; where the
routine is not reachable (another scipy), it falls back to ``minimize``.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy.optimize import minimize

try:  # the compiled routine and its messages; private to scipy, hence the fallback
    from scipy.optimize import _lbfgsb
    from scipy.optimize._lbfgsb_py import status_messages, task_messages
except ImportError:  # pragma: no cover - depends on the installed scipy
    _lbfgsb = None


def lbfgsb(fun_and_grad, x0, lower, *, ftol=1e-12, gtol=1e-6, maxiter=2000, maxls=50, maxcor=10,
           maxfun=15000, stop_at_stationary=True):
    """Minimise ``fun_and_grad(x) -> (value, gradient)`` from x0 with x ≥ lower (−inf: unbounded).

    ``stop_at_stationary``: also stop at a line-search trial point that is stationary within gtol
    and not worse than the best point by more than rounding noise (see NOISE); False visits
    exactly what scipy's L-BFGS-B visits.

    Returns an object with x, fun, nfev, success and message, like scipy's OptimizeResult.
    """
    lower = np.asarray(lower, float)
    x = np.maximum(np.array(x0, dtype=np.float64), lower)
    if _lbfgsb is not None:
        try:
            return _drive(fun_and_grad, x, lower, ftol, gtol, maxiter, maxls, maxcor, maxfun, stop_at_stationary)
        except TypeError:  # pragma: no cover - the routine's signature changed
            pass
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    res = minimize(fun_and_grad, x, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": ftol, "gtol": gtol, "maxiter": maxiter, "maxls": maxls,
                            "maxcor": maxcor, "maxfun": maxfun})
    return SimpleNamespace(x=res.x, fun=float(res.fun), nfev=int(res.nfev), success=bool(res.success),
                           message=str(res.message))


# A trial point whose projected gradient is already within ``gtol`` ends the search, when its value
# is not above the best one seen by more than rounding noise (relative NOISE). L-BFGS-B itself only
# stops at points its line search accepts, which asks for a strict decrease: near the optimum of a
# criterion with ~1e-12 relative rounding noise, that rejected such points and spent about a third
# of a sleepstudy fit's evaluations (6 of 17) moving θ by 1e-8.
NOISE = 1e-11
STATIONARY = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL (at a line-search trial point)"


def _stationary(x, g, low, finite, gtol) -> bool:
    """The projected gradient's largest entry is within gtol (as L-BFGS-B measures it)."""
    if x.size <= 16:  # the usual few θ: plain floats are several times cheaper than numpy calls here
        for xi, gi, lo, bounded in zip(x.tolist(), g.tolist(), low.tolist(), finite.tolist()):
            step = (max(xi - gi, lo) - xi) if bounded else gi
            if not abs(step) <= gtol:  # also False for NaN
                return False
        return True
    projected = np.where(finite, np.maximum(x - g, low) - x, -g)
    return bool(np.all(np.isfinite(g))) and float(np.max(np.abs(projected))) <= gtol


def _drive(fun_and_grad, x, lower, ftol, gtol, maxiter, maxls, maxcor, maxfun, stop_at_stationary):
    n, m = x.size, maxcor
    finite = np.isfinite(lower)
    nbd = finite.astype(np.int32)  # 1: bounded below only, 0: unbounded
    low = np.where(finite, lower, 0.0)
    upp = np.zeros(n)
    f = np.array(0.0)
    g = np.zeros(n)
    wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m)
    iwa = np.zeros(3 * n, dtype=np.int32)
    task = np.zeros(2, dtype=np.int32)
    ln_task = np.zeros(2, dtype=np.int32)
    lsave = np.zeros(4, dtype=np.int32)
    isave = np.zeros(44, dtype=np.int32)
    dsave = np.zeros(29)
    factr = ftol / np.finfo(float).eps
    nfev = iterations = 0
    last = None
    best = np.inf
    while True:
        _lbfgsb.setulb(m, x, low, upp, nbd, f, g, factr, gtol, wa, iwa, task, lsave, isave, dsave, maxls,
                       ln_task)
        if task[0] == 3:  # wants f and g at x (the same point twice is answered from memory, as scipy does)
            if last is None or x.tobytes() != last:
                value, grad = fun_and_grad(x)
                f = np.array(float(value))
                g = np.array(grad, dtype=np.float64)
                last = x.tobytes()
                nfev += 1
                value = float(value)
                if (stop_at_stationary and value <= best + NOISE * max(1.0, abs(best))
                        and _stationary(x, g, low, finite, gtol)):
                    return SimpleNamespace(x=x.copy(), fun=value, nfev=nfev, success=True, message=STATIONARY)
                best = min(best, value)
        elif task[0] == 1:  # a new iterate
            iterations += 1
            if iterations >= maxiter:
                task[0], task[1] = 5, 504
            elif nfev > maxfun:
                task[0], task[1] = 5, 502
        else:
            break
    message = status_messages[task[0]] + ": " + task_messages[task[1]]
    return SimpleNamespace(x=x, fun=float(f), nfev=nfev, success=bool(task[0] == 4), message=message)
