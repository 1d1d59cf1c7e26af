"""lmm_core: a small linear mixed model engine that gives lme4's answers, and the
teaching computations (pooling, shrinkage, simulation) built on it.

    from lmm_core import lmer
    fit = lmer("Reaction ~ Days + (Days | Subject)", data)
    print(fit.summary())

Pure numerics: numpy, scipy, pandas, formulaic. No Streamlit, no Plotly.
"""
import numpy as _np  # noqa: F401  (load BLAS first, then limit its threads)
import scipy.linalg as _sla  # noqa: F401

from .threads import limit_blas_threads

limit_blas_threads()

from .design import Design, TermData, build_design
from .errors import DataError, FitError, FormulaError, LmmError
from .formula import parse_formula
from .intervals import ParameterProfile, Profile, confint, format_confint, profile
from .model import LinearMixedModel, lmer
from .results import LmerFit, VarCorrTerm

__all__ = [
    "lmer", "LinearMixedModel", "LmerFit", "VarCorrTerm", "Design", "TermData", "build_design",
    "parse_formula", "LmmError", "FormulaError", "DataError", "FitError",
    "confint", "profile", "Profile", "ParameterProfile", "format_confint",
]
