"""The blocked kernel for several grouping factors (crossed or nested), after MixedModels.jl.

The random effects are split in two blocks: the first grouping factor's (the one
with the most levels, first in lme4's order, with every term that shares it) and
the rest. With A = [Z₁ Z_r X y]ᵀ[Z₁ Z_r X y] computed once, the Cholesky factor of

    [Λ₁ᵀA₁₁Λ₁+I    ·            ·  ]
    [Λ_rᵀA_r1Λ₁   Λ_rᵀA_rrΛ_r+I  ·  ]
    [A_Xy,1Λ₁      A_Xy,rΛ_r     A_XyXy]

is formed block by block for each θ:

- L₁₁ is block diagonal, one q₁ × q₁ factor per level of the first factor (stacked,
  as in the one-factor kernel): M_j = T₁ᵀ(Z₁ᵀZ₁)_j T₁ + I = L_j L_jᵀ.
- The rest block is the Schur complement L_rr L_rrᵀ = Λ_rᵀ(A_rr − A_r1 D A_1r)Λ_r + I
  with D = Λ₁M₁₁⁻¹Λ₁ᵀ block diagonal (T₁M_j⁻¹T₁ᵀ per level). A_r1 is kept sparse (dense when small)
  (it has at most one entry per row of the data per column pair), so A_r1 D A_1r costs
  about Σ_j (nonzeros in column j)², not a dense product; the complement is dense
  (fill-in makes it so, as in MixedModels.jl) and factorised by LAPACK.
- The [X y] block is down-dated by both blocks' off-diagonal parts; its Cholesky
  factor holds R_X, the fixed effects and √(penalized RSS), as in the one-factor kernel.

Nothing of size n is touched per θ, and no (Σ levels)² matrix is built: for lme4's
InstEval (2,972 + 1,128 + 14 levels) the dense part is 1,142 × 1,142.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import lapack
from .kernels import stacked_backward, stacked_cholesky, stacked_forward

SMALL_DENSE = 100_000  # A_r1 with at most this many entries is held dense
SMALL_DESIGN = 200_000  # rows × (random effects of the later factors + levels of the first): no scipy.sparse
# Up to this many random effects the exact θ-gradient is computed on dense Q × Q matrices;
# beyond, its Q³ cost exceeds that of the derivative-free optimizer's extra evaluations.
DENSE_GRADIENT_MAX = 200


class BlockedKernel:
    """Random terms on several grouping factors: block-diagonal first block, dense Schur rest."""

    def __init__(self, y, X, terms, theta_offsets, patterns):
        n = len(y)
        self.p = X.shape[1]
        Xy = np.column_stack([X, y])
        k = self.p + 1
        first = terms[0]
        in_first = [i for i, t in enumerate(terms) if t.group == first.group and t.n_levels == first.n_levels
                    and np.array_equal(t.codes, first.codes)]
        rest = [i for i in range(len(terms)) if i not in in_first]
        self.n_terms = len(terms)
        # -- first block: the terms of the first grouping factor, side by side (q₁ columns)
        self.first_terms = in_first
        Z1 = np.column_stack([terms[i].Z for i in in_first])
        codes1, m1 = first.codes, first.n_levels
        self.m1, self.q1 = m1, Z1.shape[1]
        q1 = self.q1
        rows, cols, index, widths, off = [], [], [], [], 0
        for i in in_first:
            r, c = patterns[i]
            rows.append(r + off)
            cols.append(c + off)
            index.append(theta_offsets[i] + np.arange(len(r)))
            widths.append(terms[i].q)
            off += terms[i].q
        self.rows1, self.cols1 = np.concatenate(rows), np.concatenate(cols)
        self.index1 = np.concatenate(index)
        self.widths1 = widths
        order = np.argsort(codes1, kind="stable")
        starts = np.searchsorted(codes1[order], np.arange(m1))
        outer = (Z1[:, :, None] * Z1[:, None, :]).reshape(n, q1 * q1)
        self.A11 = np.add.reduceat(outer[order], starts, axis=0).reshape(m1, q1, q1)
        cross = (Z1[:, :, None] * Xy[:, None, :]).reshape(n, q1 * k)
        self.A1Xy = np.add.reduceat(cross[order], starts, axis=0).reshape(m1, q1, k)
        self.eye1 = np.eye(q1)
        # -- rest block: the other terms, each level's q_k columns together
        self.rest_terms = rest
        self.rest = []  # (start, m, q, rows, cols, theta index) per term
        r_vals, r_rows, r_cols, start = [], [], [], 0
        for i in rest:
            t = terms[i]
            r, c = patterns[i]
            self.rest.append((start, t.n_levels, t.q, r, c, theta_offsets[i] + np.arange(len(r))))
            r_vals.append(t.Z.ravel())
            r_rows.append(np.repeat(np.arange(n), t.q))
            r_cols.append((t.codes[:, None] * t.q + np.arange(t.q)[None, :] + start).ravel())
            start += t.n_levels * t.q
        self.Qr = start
        self.XytXy = Xy.T @ Xy
        self.eye_r = np.eye(self.Qr)
        self.scalar_rest = all(q == 1 for _, _, q, *_ in self.rest)
        r_vals, r_rows, r_cols = np.concatenate(r_vals), np.concatenate(r_rows), np.concatenate(r_cols)
        if n * (self.Qr + m1) <= SMALL_DESIGN:
            # a small problem (Penicillin, Pastes, most uploads): plain arrays, because building
            # scipy.sparse matrices costs more than all the products on them
            Zr = np.zeros((n, self.Qr))
            Zr[r_rows, r_cols] = r_vals  # each (row, column) once: the terms' columns do not overlap
            self.Arr = Zr.T @ Zr
            self.ArXy = Zr.T @ Xy
            self.C = []
            for a in range(q1):
                Z1a = np.zeros((n, m1))
                Z1a[np.arange(n), codes1] = Z1[:, a]
                self.C.append(Zr.T @ Z1a)
            self.CT = [np.ascontiguousarray(c.T) for c in self.C]
            self.dense_product = True
            self.C1dense = self.C
        else:
            Zr = sp.csr_matrix((r_vals, (r_rows, r_cols)), shape=(n, self.Qr))
            ZrT = Zr.T.tocsr()
            self.Arr = (ZrT @ Zr).toarray()
            self.ArXy = np.asarray(ZrT @ Xy)
            # A_r1 split by the first block's column a within a level: C[a] is Q_r × m₁
            self.C, self.CT = [], []
            for a in range(q1):
                Z1a = sp.csr_matrix((Z1[:, a], (np.arange(n), codes1)), shape=(n, m1))
                Ca = (ZrT @ Z1a).tocsr()
                Ca.sum_duplicates()
                Ca.sort_indices()
                self.C.append(Ca)
                self.CT.append(Ca.T.tocsr())
            # A_r1 D A_1r: sparse products cost about Σ_j (nonzeros of column j)², a dense one
            # 2 Q_r² m₁ q₁ flops at a much higher rate; take the dense one when A_r1 is nearly full.
            sparse_cost = sum(float((np.diff(c.tocsc().indptr) ** 2).sum()) for c in self.C) * q1
            dense_cost = 2.0 * self.Qr * self.Qr * m1 * q1
            # (and when A_r1 is small: scipy.sparse's per-call overhead would dominate)
            self.dense_product = 20.0 * sparse_cost > dense_cost or self.Qr * m1 <= SMALL_DENSE
            self.C1dense = [c.toarray() for c in self.C] if self.dense_product else None
        self.Q = m1 * q1 + self.Qr
        self.has_gradient = self.Q <= DENSE_GRADIENT_MAX
        if self.has_gradient:
            self._dense_setup(theta_offsets, patterns, terms)

    # -- the exact gradient, on a dense copy (small problems only) -----------------------
    def _dense_setup(self, theta_offsets, patterns, terms):
        """Z'Z, Z'[X y] and Λ's pattern in the kernel's order: first block level-major, then the rest."""
        q1, m1, Q = self.q1, self.m1, self.Q
        A = np.zeros((Q, Q))
        n1 = m1 * q1
        base = np.arange(m1)[:, None, None] * q1
        A[(base + np.arange(q1)[None, :, None]), (base + np.arange(q1)[None, None, :])] = self.A11
        A1r = np.zeros((self.Qr, n1))
        for a in range(q1):
            A1r[:, a::q1] = self.C1dense[a] if self.dense_product else self.C[a].toarray()
        A[n1:, :n1] = A1r
        A[:n1, n1:] = A1r.T
        A[n1:, n1:] = self.Arr
        self.dA = A
        self.dZtXy = np.vstack([self.A1Xy.reshape(n1, -1), self.ArXy])
        rows, cols, index = [], [], []
        for j in range(m1):
            rows.append(j * q1 + self.rows1)
            cols.append(j * q1 + self.cols1)
            index.append(self.index1)
        for start, m, q, r, c, idx in self.rest:
            b = n1 + start + np.arange(m)[:, None] * q
            rows.append((b + r[None, :]).ravel())
            cols.append((b + c[None, :]).ravel())
            index.append(np.tile(idx, m))
        self.d_rows, self.d_cols = np.concatenate(rows), np.concatenate(cols)
        self.d_index = np.concatenate(index)

    def gradient(self, Lxy, state, reml: bool, n: int) -> np.ndarray:
        """Exact gradient of the profiled criterion with respect to θ (dense; Q ≤ DENSE_GRADIENT_MAX).

        With Ω = [ΛᵀAΛ+I, ΛᵀZᵀX; XᵀZΛ, XᵀX] (A = ZᵀZ), log|L|² + log|R_X|² = log|Ω| and, for
        E = ∂Λ/∂θ_i, ∂log|Ω| = 2 tr(G E) with G = M⁻¹ΛᵀA − K V (XᵀZ − KᵀΛᵀA),
        M = ΛᵀAΛ + I, K = M⁻¹ΛᵀZᵀX, V = (R_XᵀR_X)⁻¹ (ML: G = M⁻¹ΛᵀA only);
        ∂r² = −2 (Zᵀres)ᵀ E u (envelope theorem).
        """
        p = self.p
        theta = state[-1]
        Lam = np.zeros((self.Q, self.Q))
        Lam[self.d_rows, self.d_cols] = theta[self.d_index]
        A = self.dA
        LtA = Lam.T @ A
        M = LtA @ Lam
        M.flat[:: self.Q + 1] += 1.0
        RXinv = lapack.inv_upper(Lxy[:p, :p].T)
        beta = RXinv @ Lxy[p, :p]
        r2 = Lxy[p, p] ** 2
        ZtX, Zty = self.dZtXy[:, :p], self.dZtXy[:, p]
        Q = self.Q
        # one call for M⁻¹ΛᵀA, u = M⁻¹Λᵀ(Zᵀy − ZᵀXβ) and K = M⁻¹ΛᵀZᵀX (small Q: LAPACK's call cost dominates)
        cM = lapack.cholesky(M, overwrite=True)
        sol = lapack.cho_solve(cM, np.column_stack([LtA, Lam.T @ (Zty - ZtX @ beta), Lam.T @ ZtX]))
        MinvLtA, u, K = sol[:, :Q], sol[:, Q], sol[:, Q + 1:]
        Zres = Zty - ZtX @ beta - A @ (Lam @ u)
        if reml:
            N = ZtX.T - (Lam @ K).T @ A
            G = MinvLtA - K @ (RXinv @ RXinv.T) @ N
            dof = n - p
        else:
            G = MinvLtA
            dof = n
        g_logdet = 2.0 * np.bincount(self.d_index, weights=G[self.d_cols, self.d_rows], minlength=len(theta))
        g_r2 = -2.0 * np.bincount(self.d_index, weights=Zres[self.d_rows] * u[self.d_cols], minlength=len(theta))
        return g_logdet + dof * g_r2 / r2

    # -- Λ pieces ------------------------------------------------------------------
    def _T1(self, theta):
        T = np.zeros((self.q1, self.q1))
        T[self.rows1, self.cols1] = theta[self.index1]
        return T

    def _rest_T(self, theta):
        out = []
        for start, m, q, r, c, idx in self.rest:
            T = np.zeros((q, q))
            T[r, c] = theta[idx]
            out.append(T)
        return out

    def _lam_t_rows(self, B, Ts):
        """Λ_rᵀ B for B with Q_r rows."""
        return self._lam_apply(B, Ts, "ba,mbc->mac")

    def _lam_rows(self, B, Ts):
        """Λ_r B for B with Q_r rows."""
        return self._lam_apply(B, Ts, "ab,mbc->mac")

    def _lam_apply(self, B, Ts, product: str):
        """Each later term's q × q block T (or Tᵀ, by ``product``) applied to its rows of B."""
        out = np.empty_like(B)
        for (start, m, q, *_), T in zip(self.rest, Ts):
            s = slice(start, start + m * q)
            if q == 1:
                out[s] = T[0, 0] * B[s]
            else:
                out[s] = np.einsum(product, T, B[s].reshape(m, q, -1)).reshape(m * q, -1)
        return out

    def _C_D(self, D):
        """A_r1 D as a list over the first block's columns b: Σ_a C[a] diag(D[:, a, b])."""
        out = []
        for b in range(self.q1):
            acc = None
            for a in range(self.q1):
                Ca = self.C[a]
                if self.dense_product:
                    part = self.C1dense[a] * D[:, a, b][None, :]
                else:
                    part = sp.csr_matrix((Ca.data * D[Ca.indices, a, b], Ca.indices, Ca.indptr), shape=Ca.shape)
                acc = part if acc is None else acc + part
            out.append(acc)
        return out

    # -- one evaluation ----------------------------------------------------------------
    def factor(self, theta):
        p, q1, m1 = self.p, self.q1, self.m1
        T1 = self._T1(theta)
        Ts = self._rest_T(theta)
        # first block: per level M_j = T₁ᵀ A_j T₁ + I
        if q1 == 1:
            t = T1[0, 0]
            Mj = t * t * self.A11[:, 0, 0] + 1.0
            L1 = np.sqrt(Mj)
            logdet = float(np.log(Mj).sum())
            R1 = ((t / L1)[:, None] * self.A1Xy[:, 0, :])[:, None, :]
            D = (t * t / Mj)[:, None, None]
            L1 = L1[:, None, None]
        else:
            M = T1.T @ self.A11 @ T1 + self.eye1
            L1 = stacked_cholesky(M)
            logdet = 2.0 * float(np.log(np.einsum("mii->mi", L1)).sum())
            R1 = stacked_forward(L1, T1.T @ self.A1Xy)
            W = stacked_forward(L1, np.broadcast_to(T1.T, (m1, q1, q1)).copy())  # L_j⁻¹ T₁ᵀ
            D = np.swapaxes(W, 1, 2) @ W  # T₁ M_j⁻¹ T₁ᵀ
        # rest block: Schur complement of the first
        CD = self._C_D(D)
        if self.dense_product:
            S = self.Arr - sum(CD[b] @ self.C1dense[b].T for b in range(q1))
        else:
            P = CD[0] @ self.CT[0]
            for b in range(1, q1):
                P = P + CD[b] @ self.CT[b]
            S = self.Arr - P.toarray()
        rhs = self.ArXy - sum(CD[b] @ self.A1Xy[:, b, :] for b in range(q1))  # A_rXy − A_r1 D A_1Xy
        if self.scalar_rest:  # Λ_r diagonal: scale rows and columns in place
            lam = np.concatenate([np.full(m, T[0, 0]) for (_, m, *_), T in zip(self.rest, Ts)])
            S *= lam[:, None]
            S *= lam[None, :]
        else:
            S = self._lam_t_rows(self._lam_t_rows(S, Ts).T, Ts)
        S.flat[:: self.Qr + 1] += 1.0
        Lr = lapack.cholesky(S, overwrite=True)
        logdet += 2.0 * float(np.log(np.diag(Lr)).sum())
        Rr = lapack.solve_triangular(Lr, self._lam_t_rows(rhs, Ts))
        flat = R1.reshape(m1 * q1, p + 1)
        down = self.XytXy - flat.T @ flat - Rr.T @ Rr
        return logdet, lapack.cholesky(down), (T1, Ts, L1, D, R1, Lr, Rr, theta)

    def random_effects(self, theta, beta, state):
        """Per term (in the model's order): conditional modes (m, q) and unscaled conditional covariances."""
        T1, Ts, L1, D, R1, Lr, Rr, _ = state
        p, q1, m1 = self.p, self.q1, self.m1
        # u_r = L_rr⁻ᵀ(c_r − R_r β);  u₁ = L₁⁻ᵀ(c₁ − R₁β − L_r1ᵀ u_r),  L_r1ᵀu_r = L₁⁻¹T₁ᵀ A_1r Λ_r u_r
        ur = lapack.solve_triangular(Lr, Rr[:, p] - Rr[:, :p] @ beta, trans=True)
        br = self._lam_rows(ur[:, None], Ts)[:, 0]
        A1r_br = np.column_stack([self.CT[a] @ br for a in range(q1)])  # (m₁, q₁)
        c1 = R1[:, :, p] - R1[:, :, :p] @ beta
        u1 = stacked_backward(L1, c1 - stacked_forward(L1, (A1r_br @ T1)[:, :, None])[:, :, 0])
        b1 = u1 @ T1.T
        # conditional covariances: diagonal blocks of Λ M⁻¹ Λᵀ
        Wr = lapack.solve_triangular(Lr, self._lam_t_rows(self.eye_r, Ts))  # L_rr⁻¹Λ_rᵀ
        V = np.stack([np.asarray(self.CT[a] @ Wr.T).T for a in range(q1)])  # L_rr⁻¹Λ_rᵀA_r1 by column a
        G = np.einsum("aim,bim->mab", V, V)  # (A_1r Λ_r S⁻¹ Λ_rᵀ A_r1)_jj
        cov1 = D + D @ G @ D
        out = [None] * self.n_terms
        start = 0
        for i, w in zip(self.first_terms, self.widths1):
            s = slice(start, start + w)
            out[i] = (b1[:, s], cov1[:, s, s])
            start += w
        for i, (s0, m, q, *_) in zip(self.rest_terms, self.rest):
            s = slice(s0, s0 + m * q)
            Wk = Wr[:, s].reshape(-1, m, q)
            out[i] = (br[s].reshape(m, q), np.einsum("iab,iac->abc", Wk, Wk))
        return out
