"""Blocked Cholesky kernels: everything that is evaluated once per value of θ.

For a value of θ the penalized least-squares problem is solved through

    L Lᵀ   = Λᵀ Zᵀ Z Λ + I                       (random-effects block)
    R_ZXy  = L⁻¹ Λᵀ Zᵀ [X y]                     (off-diagonal block)
    Lxy Lxyᵀ = [X y]ᵀ [X y] − R_ZXyᵀ R_ZXy         (fixed-effects-and-response block)

The last block is the [X y] trick of MixedModels.jl: its Cholesky factor holds
R_X (top left), the fixed-effects solution's right side (last row) and, on its
last diagonal element, the square root of the penalized residual sum of squares.

Two kernels share one interface:
- ``OneFactorKernel``: all random terms share one grouping factor (the common
  case). Zᵀ Z is block diagonal, so every step is a stack of small q × q
  problems, one per group, done in a handful of vectorised numpy calls; nothing
  grows with the number of rows, and no (groups·q)² matrix is ever built.
- ``GeneralKernel``: any terms, on one dense (Σ m_k q_k)² matrix. Slow; kept as the
  plain reference that the tests hold ``blocked.BlockedKernel`` to. Crossed and nested
  factors are fitted with ``BlockedKernel`` (lmm_core/blocked.py).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import lapack

# Small stacks are faster with explicit loops over q than with LAPACK per group.
SMALL_Q = 6


def theta_pattern(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each θ entry in a q × q lower-triangular block, column-major (lme4's order)."""
    rows, cols = [], []
    for c in range(q):
        for r in range(c, q):
            rows.append(r)
            cols.append(c)
    return np.array(rows), np.array(cols)


def lower_block(theta_part: np.ndarray, rows: np.ndarray, cols: np.ndarray, q: int) -> np.ndarray:
    """The q × q lower-triangular block T holding ``theta_part`` at (rows, cols)."""
    T = np.zeros((q, q))
    T[rows, cols] = theta_part
    return T


# -- stacked small-matrix helpers ----------------------------------------------
def stacked_cholesky(A: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of a stack (m, q, q) of positive definite matrices."""
    q = A.shape[-1]
    if q > SMALL_Q:
        return np.linalg.cholesky(A)
    L = np.zeros_like(A)
    for j in range(q):
        d = A[:, j, j] - np.einsum("mk,mk->m", L[:, j, :j], L[:, j, :j])
        L[:, j, j] = np.sqrt(d)
        for i in range(j + 1, q):
            s = A[:, i, j] - np.einsum("mk,mk->m", L[:, i, :j], L[:, j, :j])
            L[:, i, j] = s / L[:, j, j]
    return L


def stacked_forward(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve L X = B for a stack of lower-triangular L (m, q, q) and B (m, q, k)."""
    q = L.shape[-1]
    if q > SMALL_Q:
        return np.linalg.solve(L, B)
    X = np.empty_like(B)
    for i in range(q):
        s = B[:, i, :] - np.einsum("mk,mkc->mc", L[:, i, :i], X[:, :i, :])
        X[:, i, :] = s / L[:, i, i][:, None]
    return X


def stacked_backward(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve Lᵀ X = B for a stack of lower-triangular L (m, q, q) and B (m, q)."""
    q = L.shape[-1]
    X = np.empty_like(B)
    for i in range(q - 1, -1, -1):
        s = B[:, i] - np.einsum("mk,mk->m", L[:, i + 1 :, i], X[:, i + 1 :])
        X[:, i] = s / L[:, i, i]
    return X


def group_sums(codes: np.ndarray, m: int, values: np.ndarray) -> np.ndarray:
    """Sum rows of ``values`` (n, k) within each group -> (m, k)."""
    out = np.empty((m, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=m)
    return out


class _Q2State:
    """What ``OneFactorKernel.factor`` keeps for q = 2: T, L_j as its entries (l00, l10, l11),
    R_j, M_j flat (m, 4) and det(M_j)."""

    __slots__ = ("T", "l", "R", "A", "det")

    def __init__(self, T, l, R, A, det):
        self.T, self.l, self.R, self.A, self.det = T, l, R, A, det

    def expanded(self):
        """(T, L, R) with L as a stack of 2 × 2 lower-triangular matrices."""
        l00, l10, l11 = self.l
        L = np.zeros((l00.size, 2, 2))
        L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = l00, l10, l11
        return self.T, L, self.R


# -- kernels ------------------------------------------------------------------
class OneFactorKernel:
    """All random terms share one grouping factor: per-group q × q blocks, stacked."""

    def __init__(self, y, X, Z, codes, m, theta_rows, theta_cols):
        n, self.q = Z.shape
        self.m = m
        self.p = X.shape[1]
        Xy = np.column_stack([X, y])
        q, k = self.q, self.p + 1
        outer = (Z[:, :, None] * Z[:, None, :]).reshape(n, q * q)
        self.ZtZ_flat = group_sums(codes, m, outer)  # (m, q·q), row-major per group
        self.ZtZ = self.ZtZ_flat.reshape(m, q, q)
        cross = (Z[:, :, None] * Xy[:, None, :]).reshape(n, q * k)
        self.ZtXy = group_sums(codes, m, cross).reshape(m, q, k)
        self.XytXy = Xy.T @ Xy
        self.ZtX = np.ascontiguousarray(self.ZtXy[:, :, : self.p])
        self.XtZ = np.ascontiguousarray(np.swapaxes(self.ZtX, 1, 2))
        self.Zres_base = np.ascontiguousarray(self.ZtXy[:, :, self.p])
        self.rows, self.cols = theta_rows, theta_cols
        self.eye_flat = np.eye(q).ravel()
        # Σⱼ Sⱼ Xⱼ for a stack X (m, q, q) is one product: S laid out as (q, m·q) times X as (m·q, q)
        self.S_wide = np.ascontiguousarray(np.swapaxes(self.ZtZ, 0, 1).reshape(q, m * q))
        self.adjugate_sign = np.array([1.0, -1.0, -1.0, 1.0])

    def T(self, theta: np.ndarray) -> np.ndarray:
        return lower_block(theta, self.rows, self.cols, self.q)

    def factor(self, theta: np.ndarray):
        """Return log|L|², the lower Cholesky factor of the [X y] block, and what random_effects() reuses."""
        q, m, k = self.q, self.m, self.p + 1
        if q == 1:
            t = theta[0]
            d = t * t * self.ZtZ_flat[:, 0] + 1.0
            L = np.sqrt(d)
            R = (t / L)[:, None] * self.ZtXy[:, 0, :]
            logdet = float(np.log(d).sum())
            down = self.XytXy - R.T @ R
            return logdet, lapack.cholesky(down), (t, L, R)
        T = self.T(theta)
        # vec(Tᵀ S T) = vec(S) (T ⊗ T) for row-major vec: one matrix product for all groups.
        kron = (T[:, None, :, None] * T[None, :, None, :]).reshape(q * q, q * q)
        A = self.ZtZ_flat @ kron + self.eye_flat
        B = T.T @ self.ZtXy  # Tᵀ Zⱼᵀ[X y] for every group j
        if q == 2:  # closed form: the common intercept-and-slope case
            l00 = np.sqrt(A[:, 0])
            l10 = A[:, 2] / l00
            l11 = np.sqrt(A[:, 3] - l10 * l10)
            R = np.empty((m, 2, k))
            R[:, 0] = B[:, 0] / l00[:, None]
            R[:, 1] = (B[:, 1] - l10[:, None] * R[:, 0]) / l11[:, None]
            diag = l00 * l11  # det(L_j); det(M_j) is its square
            logdet = 2.0 * float(np.log(diag).sum())
            flat = R.reshape(m * q, k)
            down = self.XytXy - flat.T @ flat
            # L_j is only needed for the conditional modes: kept as its three entries, with M_j
            # (flat) and det(M_j) for the gradient's closed-form M_j⁻¹
            return logdet, lapack.cholesky(down), _Q2State(T, (l00, l10, l11), R, A, diag * diag)
        else:
            L = stacked_cholesky(A.reshape(m, q, q))
            R = stacked_forward(L, B)
            logdet = 2.0 * float(np.log(np.einsum("mii->mi", L)).sum())
        flat = R.reshape(m * q, k)
        down = self.XytXy - flat.T @ flat
        return logdet, lapack.cholesky(down), (T, L, R)

    def gradient(self, Lxy, state, reml: bool, n: int) -> np.ndarray:
        """Exact gradient of the profiled criterion with respect to θ.

        With M_j = TᵀS_jT + I (S_j = Z_jᵀZ_j), E = ∂T/∂θ_i = e_r e_cᵀ:
          ∂ log|M|      = 2 Σ_j (S_j T M_j⁻¹)[r, c]
          ∂ log|M|+log|R_XᵀR_X| = 2 Σ_j (S_j T W_j − H_j T M_j⁻¹)[r, c],
                          H_j = C_j V C_jᵀ, V = (R_XᵀR_X)⁻¹, W_j = M_j⁻¹ + M_j⁻¹TᵀH_jTM_j⁻¹
          ∂ r²          = −2 Σ_j (Z_jᵀ res_j)[r] u_j[c]            (envelope theorem)
        """
        if isinstance(state, _Q2State):
            return self._gradient_q2(Lxy, state, reml, n)
        p = self.p
        T, L, R = self._square(state)
        RXinv = lapack.inv_upper(Lxy[:p, :p].T)
        beta = RXinv @ Lxy[p, :p]
        r2 = Lxy[p, p] ** 2
        if self.q == 2:  # closed form: cheaper than LAPACK on a stack of 2 × 2 matrices
            Linv = np.zeros_like(L)
            d0, d1 = 1.0 / L[:, 0, 0], 1.0 / L[:, 1, 1]
            Linv[:, 0, 0], Linv[:, 1, 1], Linv[:, 1, 0] = d0, d1, -L[:, 1, 0] * d0 * d1
        else:
            Linv = np.linalg.inv(L)
        LinvT = np.swapaxes(Linv, 1, 2)
        u = (LinvT @ (R[:, :, p:] - R[:, :, :p] @ beta[:, None]))[:, :, 0]  # u_j = L_j⁻ᵀ(c_j − R_j β)
        Minv = LinvT @ Linv
        ST = self.ZtZ @ T
        Zres = self.Zres_base - self.ZtX @ beta - (ST @ u[:, :, None])[:, :, 0]
        D2 = Zres.T @ u
        if reml:
            H = self.ZtX @ (RXinv @ RXinv.T) @ self.XtZ
            TM = T @ Minv
            D = (ST @ (Minv + np.swapaxes(TM, 1, 2) @ H @ TM) - H @ TM).sum(axis=0)
            dof = n - p
        else:
            D = (ST @ Minv).sum(axis=0)
            dof = n
        rows, cols = self.rows, self.cols
        return 2.0 * D[rows, cols] - 2.0 * dof * D2[rows, cols] / r2

    def _gradient_q2(self, Lxy, state, reml: bool, n: int) -> np.ndarray:
        """``gradient`` for q = 2 in fewer numpy calls (a small fit is bound by their number):
        M_j⁻¹ in closed form from M_j, u_j = M_j⁻¹ Tᵀ Z_jᵀ(y − Xβ), and every sum over groups
        Σ_j S_j X_j as one matrix product (S_wide)."""
        p, m = self.p, self.m
        T, A, det = state.T, state.A, state.det
        RXinv = lapack.inv_upper(Lxy[:p, :p].T)
        beta = RXinv @ Lxy[p, :p]
        r2 = Lxy[p, p] ** 2
        Minv = (A[:, ::-1] * self.adjugate_sign / det[:, None]).reshape(m, 2, 2)  # adj(M_j) / det(M_j)
        g = self.Zres_base - self.ZtX @ beta  # Z_jᵀ(y − Xβ), (m, 2)
        u = np.matmul(Minv, (g @ T)[:, :, None])  # (m, 2, 1)
        ST = self.ZtZ @ T
        Zres = g - np.matmul(ST, u)[:, :, 0]
        D2 = Zres.T @ u[:, :, 0]
        TM = T @ Minv
        D = self.S_wide @ TM.reshape(2 * m, 2)
        if reml:
            G = self.ZtX @ RXinv  # H_j = G_j G_jᵀ
            K = np.matmul(G, np.matmul(np.swapaxes(G, 1, 2), TM))  # H_j T M_j⁻¹
            Y = np.matmul(TM @ T.T, K)  # T M_j⁻¹ Tᵀ H_j T M_j⁻¹
            D += self.S_wide @ Y.reshape(2 * m, 2) - np.add.reduce(K, axis=0)
            dof = n - p
        else:
            dof = n
        rows, cols = self.rows, self.cols
        return 2.0 * D[rows, cols] - (2.0 * dof / r2) * D2[rows, cols]

    def _square(self, state):
        """The kernel's state with the q = 1 shortcut expanded to stacks of 1 × 1 matrices."""
        if self.q == 1:
            t, L, R = state
            return np.array([[t]]), L[:, None, None], R[:, None, :]
        return state

    def random_effects(self, theta, beta, state):
        """Conditional modes b (m, q) and unscaled conditional covariances (m, q, q)."""
        p = self.p
        if self.q == 1:
            t, L, R = state
            u = (R[:, p] - R[:, :p] @ beta) / L
            b = (t * u)[:, None]
            cov = (t * t / (L * L))[:, None, None]
            return b, cov
        T, L, R = state.expanded() if isinstance(state, _Q2State) else state
        rhs = R[:, :, p] - R[:, :, :p] @ beta
        u = stacked_backward(L, rhs)
        b = u @ T.T
        W = np.linalg.inv(L) @ T.T  # L⁻¹ Tᵀ per group
        cov = np.swapaxes(W, 1, 2) @ W
        return b, cov


class GeneralKernel:
    """Any number of terms and factors: dense (Σ m_k q_k)² random-effects block."""

    def __init__(self, y, X, terms, theta_offsets, patterns):
        n = len(y)
        self.p = X.shape[1]
        Xy = np.column_stack([X, y])
        z_vals, z_rows, z_cols, lam_rows, lam_cols, lam_index = [], [], [], [], [], []
        self.slices = []
        offset = 0
        for term, t_off, (rows, cols) in zip(terms, theta_offsets, patterns):
            q, m = term.q, term.n_levels
            z_vals.append(term.Z.ravel())
            z_rows.append(np.repeat(np.arange(n), q))
            z_cols.append((term.codes[:, None] * q + np.arange(q)[None, :] + offset).ravel())
            base = offset + np.arange(m)[:, None] * q
            lam_rows.append((base + rows[None, :]).ravel())
            lam_cols.append((base + cols[None, :]).ravel())
            lam_index.append(np.tile(np.arange(len(rows)) + t_off, m))
            self.slices.append((offset, m, q))
            offset += m * q
        self.Q = offset
        Z = sp.csr_matrix((np.concatenate(z_vals), (np.concatenate(z_rows), np.concatenate(z_cols))),
                          shape=(n, offset))
        self.ZtZ = (Z.T @ Z).toarray()
        self.ZtXy = np.asarray(Z.T @ Xy)
        self.XytXy = Xy.T @ Xy
        self.lam_rows = np.concatenate(lam_rows)
        self.lam_cols = np.concatenate(lam_cols)
        self.lam_index = np.concatenate(lam_index)
        self.eye = np.eye(offset)

    def Lambda(self, theta):
        return sp.csr_matrix((theta[self.lam_index], (self.lam_rows, self.lam_cols)), shape=(self.Q, self.Q))

    def factor(self, theta):
        Lam = self.Lambda(theta)
        LamT = Lam.T.tocsr()
        M = LamT @ self.ZtZ  # Λᵀ ZᵀZ
        A = np.asarray(LamT @ M.T) + self.eye  # Λᵀ ZᵀZ Λ + I
        L = np.linalg.cholesky(A)
        R = sla.solve_triangular(L, np.asarray(LamT @ self.ZtXy), lower=True, check_finite=False)
        logdet = 2.0 * float(np.log(np.diag(L)).sum())
        down = self.XytXy - R.T @ R
        return logdet, np.linalg.cholesky(down), (Lam, L, R)

    def random_effects(self, theta, beta, state):
        """Per term: conditional modes (m, q) and unscaled conditional covariances (m, q, q)."""
        Lam, L, R = state
        p = self.p
        u = sla.solve_triangular(L, R[:, p] - R[:, :p] @ beta, lower=True, trans="T", check_finite=False)
        b = Lam @ u
        W = sla.solve_triangular(L, Lam.T.toarray(), lower=True, check_finite=False)  # L⁻¹ Λᵀ
        out = []
        for offset, m, q in self.slices:
            Wk = W[:, offset : offset + m * q].reshape(-1, m, q)
            cov = np.einsum("iab,iac->abc", Wk, Wk)
            out.append((b[offset : offset + m * q].reshape(m, q), cov))
        return out

