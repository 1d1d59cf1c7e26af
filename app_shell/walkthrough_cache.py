"""The walkthrough's cached numbers (shared by all sessions, read-only, within the byte limits of
``app_shell.budget``).

They live in a module rather than in the page script: a page script runs again on every
rerun, and decorating its functions again each time costs Streamlit a read of their source
(``st.cache_resource``: about 0.3 ms each, six of them: a tenth of a slider move). Every
argument is part of the key; the data are the built-in data sets, named by those arguments.
"""
from __future__ import annotations

import datasets
from teaching import walkthrough_numbers as numbers

from . import ui
from . import walkthrough_content as lessons


@ui.shared_cache()
def facts(path: str) -> dict:
    return numbers.walkthrough_facts(path, datasets.load(lessons.PATHS[path].data))


@ui.shared_cache(max_entries=32)
def thinned(data_name: str, keep: int, random: str):
    info = datasets.info(data_name)
    return numbers.thinned_pooling(datasets.load(data_name), info.response, info.group, info.covariate, keep,
                                   random=random, extra_covariates=info.extra_covariates)


@ui.shared_cache()
def profile(data_name: str):
    return numbers.criterion_profile(numbers.FORMULAS[data_name]["intercept"], datasets.load(data_name),
                                     numbers.THETA_MAX[data_name])


@ui.shared_cache(max_entries=64)
def scenario(n_per_group: int, ratio: float):
    return numbers.shrinkage_scenario(n_per_group, ratio)


@ui.shared_cache(max_entries=16)
def predictions(keep: int):
    return numbers.three_predictions(datasets.load("sleepstudy"), "Reaction", "Subject", "Days",
                                     numbers.PREDICTION_SUBJECT, keep, full=ui.pooling("sleepstudy", "rs"))


@ui.shared_cache()
def model_fit(data_name: str, kind: str):
    from lmm_core import lmer

    return lmer(numbers.FORMULAS[data_name][kind], datasets.load(data_name))
