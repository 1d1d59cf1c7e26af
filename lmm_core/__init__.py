"""lmm_core: a small linear mixed model engine that gives lme4's answers.

    from lmm_core import lmer
    fit = lmer("Reaction ~ Days + (Days | Subject)", data)
    print(fit.summary())

Pure numerics: numpy, scipy, pandas, formulaic. No Streamlit, no Plotly, and nothing from
the packages built on it (the teaching computations, the app).

The public API is what this module exports (``__all__``); code outside the engine imports
only these names:

- fitting: ``lmer`` (formula + data → ``LmerFit``), ``LinearMixedModel`` (the model as a
  function of θ: ``objective``, ``profiled``, ``fit``, ``fit_at`` a given θ,
  ``relative_factors``), ``LmerFit`` (fixef, ranef, coef, varcorr, ``modes_by_term``,
  ``ranef_condvar``, ``relative_factors``, summary, predict), ``VarCorrTerm``;
- designs built by hand: ``Design``, ``TermData``, ``build_design``, ``parse_formula``,
  ``factor_codes`` (R's factor coding of a column);
- per-group sums: ``group_sums`` (the sums of a per-row quantity within each group);
- tables and comparisons: ``tables`` (fixed effects, variance components, random effects,
  ``random_effect_covariance``), ``comparison`` (AIC/BIC tables, ``anova``, data checks);
- the command line: ``command_line`` (``python -m lmm_core``; other packages add commands);
- confidence intervals: ``confint`` (lme4's ``confint()``: profile likelihood or Wald, also
  ``LmerFit.confint``), ``profile`` (the profiles themselves: ``Profile``, ``ParameterProfile``),
  ``format_confint`` (the table as R prints it);
- errors: ``LmmError`` and its kinds ``FormulaError``, ``DataError``, ``FitError``.
"""
import numpy as _np  # noqa: F401  (load BLAS first, then limit its threads)
import scipy.linalg as _sla  # noqa: F401

from .threads import limit_blas_threads

limit_blas_threads()

from . import comparison, tables
from .cli import main as command_line
from .design import Design, TermData, build_design, factor_codes
from .errors import DataError, FitError, FormulaError, LmmError
from .formula import parse_formula
from .intervals import ParameterProfile, Profile, confint, format_confint, profile
from .kernels import group_sums
from .model import LinearMixedModel, lmer
from .results import LmerFit, VarCorrTerm
from .tables import random_effect_covariance

__all__ = [
    "lmer", "LinearMixedModel", "LmerFit", "VarCorrTerm", "Design", "TermData", "build_design",
    "parse_formula", "factor_codes", "group_sums", "random_effect_covariance", "tables", "comparison",
    "command_line", "LmmError", "FormulaError", "DataError", "FitError",
    "confint", "profile", "Profile", "ParameterProfile", "format_confint",
]
