"""The fit as JSON-ready data, shaped like an entry of lme4_reference.json."""
from __future__ import annotations

import math

import numpy as np


def _num(x):
    x = float(x)
    return None if math.isnan(x) else x


def _matrix(a):
    return [[_num(v) for v in row] for row in np.asarray(a)]


def fit_to_dict(fit) -> dict:
    fe, se = fit.fixef, fit.fixef_se
    ranef, ranef_sd = fit.ranef, fit.ranef_sd
    out = {
        "formula": fit.design.formula.text if fit.design.formula else None,
        "reml": fit.reml,
        "nobs": fit.nobs,
        "ngroups": fit.ngroups,
        "fixef": {k: _num(v) for k, v in fe.items()},
        "fixef_se": {k: _num(v) for k, v in se.items()},
        "vcov": _matrix(fit.vcov.to_numpy()),
        "theta": [_num(t) for t in fit.theta],
        "sigma": _num(fit.sigma),
        "objective": _num(fit.objective),
        "loglik": _num(fit.loglik),
        "aic": _num(fit.aic),
        "bic": _num(fit.bic),
        "df": fit.df,
        "singular": fit.singular,
        "converged": fit.converged,
        "varcorr": [
            {"group": v.group, "terms": v.terms, "cov": _matrix(v.cov), "sd": [_num(s) for s in v.sd],
             "corr": _matrix(v.corr)}
            for v in fit.varcorr
        ],
        "ranef": {
            g: [
                {"level": str(level), "values": {c: _num(table.loc[level, c]) for c in table.columns},
                 "cond_sd": {c: _num(ranef_sd[g].loc[level, c]) for c in table.columns}}
                for level in table.index
            ]
            for g, table in ranef.items()
        },
        "coef": {
            g: [{"level": str(level), "values": {c: _num(v) for c, v in table.loc[level].items()}} for level in table.index]
            for g, table in fit.coef.items()
        },
        "messages": list(fit.messages),
    }
    return out
