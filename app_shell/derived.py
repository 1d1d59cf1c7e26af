"""Texts and tables worked out from a cached fit, cached with it.

A page that only shows the fit (the landing page, the shrinkage map) runs again on every visit and
every widget change; these cost more than the rest of such a page (the sentence that counts which
groups lie between complete and no pooling: about 8 ms on 200 groups; lme4's summary text and
tables: 3 ms), and they depend only on the data and the model. Each function takes the page's
``ui.Choice``; the fit is ``ui.pooling_for(choice)`` (itself cached), and the cache key is the
whole input (``app_shell.compute``: for uploaded data the content, columns and roles, and the
result stays in that session).
"""
from __future__ import annotations

from . import compute, ui


def _keys(choice) -> tuple:
    return compute.data_key(choice), compute.model_key(choice.model)


@compute.cached(max_entries=64)
def _between(key: compute.DataKey, model: tuple, group_word: str, centred: bool, *, _result):
    from teaching.pooling import between_sentence as sentence

    return sentence(_result, group_word, centred)


def between_sentence(choice, group_word: str, centred: bool = True) -> str:
    """``teaching.pooling.between_sentence`` for the chosen data and model (REML, as ``ui.pooling_for``)."""
    return _between(*_keys(choice), group_word, bool(centred), _result=ui.pooling_for(choice))


@compute.cached(max_entries=64)
def _printout(key: compute.DataKey, model: tuple, *, _result):
    from lmm_core import tables

    fit = _result.fit
    return (tables.fixed_effects_table(fit), tables.variance_table(fit),
            fit.summary(data_name=key.name, formula=_result.formula))  # the fit is built from arrays


def model_printout(choice):
    """(fixed-effects table, variance table, lme4-style summary text) of the chosen model's REML fit."""
    return _printout(*_keys(choice), _result=ui.pooling_for(choice))


@compute.cached(max_entries=64)
def _full_pulls(key: compute.DataKey, model: tuple, at_x: float | None, groups: tuple | None, *, _result):
    from teaching.pooling import arrow_pulls, mean_pull

    return arrow_pulls(_result, at_x), mean_pull(_result, list(groups) if groups is not None else None, at_x)


def full_data_pulls(choice, at_x: float | None = None, groups=None):
    """(``arrow_pulls``, ``mean_pull`` over ``groups``) of the chosen model's REML fit to all the data,
    intercepts read at ``at_x``: the "before" of "Less data", the same on every move of its slider."""
    groups = tuple(str(g) for g in groups) if groups is not None else None
    return _full_pulls(*_keys(choice), None if at_x is None else float(at_x), groups, _result=ui.pooling_for(choice))
