"""How big a request may be: the engine's limits, in one place.

Every limit is checked *before* the work it bounds starts, and a request over a limit is
refused with a ``LimitError`` (an ``LmmError``) whose message names the limit and says what
to do. The command line, the app and the README all read the numbers from here.

    from lmm_core import limits
    limits.DEFAULT.power            # the largest n in (a + b)^n
    with limits.use(limits.APP):    # stricter limits for one web request (a thread)
        lmer(formula, data)

``DEFAULT`` is what ``lmer``, ``build_design`` and the command line use; ``APP`` is what the
web app applies to everything a URL or an upload asks for: the same shapes, but with a
wall-clock budget for the optimiser and smaller dense matrices, so one request cannot hold
a shared server for long or fill its memory. The teaching data sets and every model of the
course material are far inside both (see ``tests/engine/test_hostile_input.py``).
"""
from __future__ import annotations

import contextlib
import contextvars
import time
from dataclasses import dataclass, fields, replace

from .errors import LmmError


class LimitError(LmmError):
    """A request is larger than a limit; ``limit`` names the limit (a field of ``Limits``)."""

    def __init__(self, message: str, limit: str = ""):
        self.limit = limit
        self.plain_message = message
        super().__init__(message)


@dataclass(frozen=True)
class Limits:
    """The bounds of one request. Sizes are counts; ``fit_seconds`` None means no time limit."""

    formula_chars: int = 2000  # characters in a formula
    paren_depth: int = 30  # parentheses nested inside one another
    power: int = 8  # the largest n in (a + b + ...)^n
    terms: int = 300  # terms after expanding *, ^ and / (fixed part, or one random term's left side)
    fixed_columns: int = 300  # columns of X
    factor_levels: int = 500  # levels of a text column used as a fixed effect
    x_cells: int = 30_000_000  # rows × columns of X (8 bytes each: 240 MB)
    z_cells: int = 30_000_000  # rows × columns of all random terms' Z
    random_columns: int = 50  # columns of one random term (q)
    dense_random_effects: int = 6_000  # random effects of crossed/nested factors (a dense Q × Q matrix)
    file_mb: int = 200  # size of a CSV file the command line reads
    fit_seconds: float | None = None  # wall clock of one optimisation

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, value, meaning) for documentation."""
        return [(f.name, str(getattr(self, f.name)), _MEANING[f.name]) for f in fields(self)]


_MEANING = {
    "formula_chars": "characters in a formula",
    "paren_depth": "parentheses nested inside one another",
    "power": "the largest n in (a + b)^n",
    "terms": "model terms after expanding *, ^ and /",
    "fixed_columns": "columns of the fixed-effects matrix X",
    "factor_levels": "levels of a text column used as a fixed effect",
    "x_cells": "rows × columns of X",
    "z_cells": "rows × columns of the random-effects matrices Z",
    "random_columns": "columns of one random-effects term",
    "dense_random_effects": "random effects of crossed or nested grouping factors",
    "file_mb": "megabytes of a CSV file the command line reads",
    "fit_seconds": "seconds one optimisation may run",
}

#: The engine's and the command line's limits.
DEFAULT = Limits()

#: What the web app allows one request (a link, a typed formula, an upload).
APP = replace(DEFAULT, x_cells=5_000_000, z_cells=5_000_000, fixed_columns=200, factor_levels=200,
              dense_random_effects=3_000, fit_seconds=8.0)

_ACTIVE: contextvars.ContextVar[Limits] = contextvars.ContextVar("lmm_limits", default=DEFAULT)


def current() -> Limits:
    """The limits in force in this thread (``DEFAULT`` unless inside ``use``)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def use(limits: Limits):
    """Apply ``limits`` to everything the engine does inside the ``with`` block (this thread)."""
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


def resolve(limits: Limits | None) -> Limits:
    return current() if limits is None else limits


def refuse(limit: str, message: str) -> None:
    raise LimitError(message, limit)


class Deadline:
    """A wall-clock budget for a loop: ``check()`` raises ``LimitError`` once it is spent."""

    def __init__(self, seconds: float | None, what: str = "The fit"):
        self.seconds = seconds
        self.what = what
        self.end = None if seconds is None else time.monotonic() + float(seconds)

    def check(self) -> None:
        if self.end is not None and time.monotonic() > self.end:
            refuse("fit_seconds",
                   f"{self.what} was stopped after {self.seconds:g} seconds, the time one request may take "
                   "here. Try a simpler model (fewer random effects or grouping factors with fewer levels), "
                   "or fit it on your own computer with lme4 or `python -m lmm_core fit`.")


def count(n: int) -> str:
    return f"{n:,}"
