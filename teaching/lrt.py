"""Reading a likelihood-ratio test of random effects: when the simpler model puts a variance on
its boundary (0), the χ² reference is wrong and the p-value too large (Self & Liang 1987; Stram &
Lee 1994). Pure numerics; the Your model page words it."""
from __future__ import annotations

from scipy import stats


def variances(fit) -> set[tuple[str, str]]:
    """(grouping factor, term) of every variance a fit estimates."""
    return {(vc.factor, term) for vc in fit.varcorr for term in vc.terms}


def boundary_note(small, big, chisq: float, df: int, p: float) -> str:
    """A sentence for a test of ``small`` against ``big`` (ML fits), or "" when the models differ
    in their fixed effects or the larger adds no variance (e.g. only a correlation: not a
    boundary). With exactly one added variance (and df − 1 covariances) the right reference is an
    equal mixture of χ²(df − 1) and χ²(df), computed here; with more, only the direction is said."""
    if list(small.fixef.index) != list(big.fixef.index):
        return ""
    added = variances(big) - variances(small)
    if not added or not variances(small) <= variances(big):
        return ""
    if len(added) == 1 and df >= 1:
        mixed = 0.5 * (stats.chi2.sf(chisq, df - 1) if df > 1 else float(chisq <= 0)) + 0.5 * stats.chi2.sf(chisq, df)
        verdict_changes = (p >= 0.05) != (mixed >= 0.05)
        return (f"The larger model adds a variance, which the simpler one sets to 0, the edge of what is allowed: "
                f"the χ²({df}) p-value is then too large. The right reference is half χ²({df - 1}) and half "
                f"χ²({df}), which gives p = {mixed:.3g}" + (", and that changes the verdict." if verdict_changes else "."))
    return ("The larger model adds variances that the simpler one sets to 0, the edge of what is allowed: the χ² "
            "p-value is then too large (conservative).")
