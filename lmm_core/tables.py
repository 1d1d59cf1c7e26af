"""Tidy tables of a fit, for pages and downloads: fixed effects, variance components, random effects."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def fixed_effects_table(fit, level: float = 0.95) -> pd.DataFrame:
    """Estimate, standard error, t value and a Wald interval for each fixed effect."""
    z = stats.norm.ppf(0.5 + level / 2)
    est, se = fit.fixef, fit.fixef_se
    pct = f"{level:.0%}"
    return pd.DataFrame({
        "Estimate": est, "Std. Error": se, "t value": est / se,
        f"lower {pct}": est - z * se, f"upper {pct}": est + z * se,
    })


def variance_table(fit) -> pd.DataFrame:
    """One row per random-effect variance and the residual: variance, SD, correlations, share."""
    rows = []
    for vc in fit.varcorr:
        for i, name in enumerate(vc.terms):
            corr = ", ".join(f"{vc.corr[i, j]:.2f}" for j in range(i)) if i else ""
            rows.append({"Group": vc.group, "Name": name, "Variance": vc.cov[i, i], "Std.Dev.": vc.sd[i],
                         "Corr": corr})
    rows.append({"Group": "Residual", "Name": "", "Variance": fit.sigma**2, "Std.Dev.": fit.sigma, "Corr": ""})
    table = pd.DataFrame(rows)
    table["Share of variance"] = table["Variance"] / table["Variance"].sum()
    return table


def random_effects_table(fit) -> pd.DataFrame:
    """Long table of conditional modes with their conditional SDs and 95% intervals."""
    frames = []
    for group, modes in fit.ranef.items():
        sds = fit.ranef_sd[group]
        for term in modes.columns:
            frames.append(pd.DataFrame({
                "Group": group, "Term": term, "Level": modes.index.astype(str),
                "Mode": modes[term].to_numpy(), "Cond. SD": sds[term].to_numpy(),
            }))
    table = pd.concat(frames, ignore_index=True)
    table["lower 95%"] = table["Mode"] - 1.959964 * table["Cond. SD"]
    table["upper 95%"] = table["Mode"] + 1.959964 * table["Cond. SD"]
    return table


def coef_table(fit) -> pd.DataFrame:
    """coef() per level, long enough to download: one row per level, one column per coefficient."""
    frames = [table.assign(Group=group).reset_index(names="Level") for group, table in fit.coef.items()]
    return pd.concat(frames, ignore_index=True)


def mean_conditional_variance(fit) -> dict[tuple[str, str], float]:
    """Per (group, term): the mean conditional variance of the modes (what their spread misses)."""
    out = {}
    for group, names, cov in fit.ranef_condvar():
        for i, name in enumerate(names):
            out[(group, name)] = float(np.mean(cov[:, i, i]))
    return out


def random_effect_covariance(fit, group: str | None = None) -> np.ndarray:
    """Covariance of all random effects of one grouping factor (terms of the same factor joined;
    uncorrelated terms give zeros off the diagonal)."""
    terms = [vc for vc in fit.varcorr if group is None or vc.factor == group]
    group = terms[0].factor
    terms = [vc for vc in terms if vc.factor == group]
    size = sum(len(vc.terms) for vc in terms)
    cov = np.zeros((size, size))
    start = 0
    for vc in terms:
        k = len(vc.terms)
        cov[start : start + k, start : start + k] = vc.cov
        start += k
    return cov
