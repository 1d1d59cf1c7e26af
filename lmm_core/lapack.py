"""Direct LAPACK calls for the small dense steps of every criterion evaluation.

scipy.linalg's wrappers (``cholesky``, ``solve_triangular``, ``cho_solve``) check and convert
their arguments on every call, which costs from 5 to over 100 µs, and numpy.linalg's cost 5-7 µs:
more than the arithmetic on the few small matrices of a typical fit, which is evaluated a dozen
times per fit and a thousand times per profile. These functions call the same LAPACK routines
(dpotrf, dtrtrs, dpotrs, dtrtri) through scipy's own bindings, so they return the same numbers.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

_potrf, _potrs, _trtrs, _trtri = sla.get_lapack_funcs(("potrf", "potrs", "trtrs", "trtri"), dtype=np.float64)


def cholesky(a: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """Lower Cholesky factor of the symmetric positive definite ``a`` (LinAlgError if it is not)."""
    if a.shape[0] == 0:
        return np.zeros((0, 0))
    c, info = _potrf(a, lower=1, clean=1, overwrite_a=int(overwrite))
    if info != 0:
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    return c


def solve_triangular(t: np.ndarray, b: np.ndarray, lower: bool = True, trans: bool = False) -> np.ndarray:
    """Solve T x = b (or Tᵀ x = b with ``trans``) for a triangular T."""
    if t.shape[0] == 0:
        return np.zeros(b.shape)
    x, info = _trtrs(t, b, lower=int(lower), trans=int(trans))
    if info != 0:
        raise np.linalg.LinAlgError("Singular triangular matrix")
    return x


def cho_solve(c: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b given A's lower Cholesky factor ``c``."""
    x, info = _potrs(c, b, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("cho_solve failed")
    return x


def inv_upper(u: np.ndarray) -> np.ndarray:
    """Inverse of an upper-triangular matrix."""
    if u.shape[0] == 0:
        return np.zeros((0, 0))
    x, info = _trtri(u, lower=0)
    if info != 0:
        raise np.linalg.LinAlgError("Singular triangular matrix")
    return x
