"""The teaching package's command line: ``python -m teaching pool ...``.

    python -m teaching pool --data datasets/sleepstudy.csv --response Reaction --group Subject --covariate Days

prints complete, no and partial pooling of every group side by side (``--json`` for a list of
rows). ``python -m lmm_core pool ...`` still works: the engine's command line hands it over to
this one. The command-line machinery (one-line errors, exit status 2) is the engine's
(``lmm_core.command_line``); this module only adds the ``pool`` command.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

from lmm_core import DataError, command_line

from .pooling import RANDOM_KINDS, PoolingResult, compare_pooling, no_pooling_meaning, pool_table_json, singular_message

PROG = "python -m teaching"


def format_pooling(result: PoolingResult) -> str:
    """The comparison as text, for the command line."""
    fit = result.fit
    lines = [f"Formula: {result.formula}  ({'REML' if result.reml else 'ML'})",
             f"Groups: {len(result.levels)}  Observations: {fit.nobs}  Rows dropped (missing values): "
             f"{result.dropped_rows}"]
    pop = f"Population line: intercept {result.population['intercept']:.6g}"
    if result.data.covariate is not None:
        pop += f", slope {result.population['slope']:.6g}"
    lines.append(pop)
    if result.held_at_mean:
        held = ", ".join(f"{k} = {v:.6g}" for k, v in result.held_at_mean.items())
        lines.append(f"Lines drawn with extra covariates at their mean: {held}")
    g = result.data
    lines.append(no_pooling_meaning(result.random, g.covariate, g.group, g.extra_names))
    singular = singular_message(result, g.group)
    if singular:
        lines.append(singular.replace("**", "").replace("*", ""))
    not_estimable = int((~result.estimable).sum())
    if not_estimable:
        lines.append(f"{not_estimable} group(s) have no own (no-pooling) line: too few rows or a constant covariate.")
    table = result.table if result.data.covariate is not None else result.table.drop(columns="slope")
    lines += ["", table.to_string(index=False, float_format=lambda v: f"{v:.6g}")]
    return "\n".join(lines)


def _text_factor(column: pd.Series) -> pd.Categorical:
    """Group ids read as text, ordered as R orders factor levels (numeric ids by value)."""
    present = pd.unique(column.dropna())
    numbers = pd.to_numeric(pd.Series(present), errors="coerce")
    if len(present) and numbers.notna().all():
        order = [present[i] for i in np.argsort(numbers.to_numpy(float), kind="stable")]
    else:
        order = sorted(present)
    return pd.Categorical(column, categories=order)


def read_csv_for_pooling(path: str, group: str) -> pd.DataFrame:
    """Read a CSV with the group column as text (a factor, never a number)."""
    try:
        data = pd.read_csv(path, dtype={group: str}, na_values=["NA"])
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"Could not read the data file '{path}': {' '.join(str(exc).split())}") from None
    if group in data.columns:
        data[group] = _text_factor(data[group])
    return data


def add_pool_arguments(parser) -> None:
    """The options of ``python -m teaching pool`` (for an argparse (sub)parser)."""
    parser.add_argument("--data", required=True, help="CSV file")
    parser.add_argument("--response", required=True, help="the numeric column to explain")
    parser.add_argument("--group", required=True, help="the grouping column (read as text)")
    parser.add_argument("--covariate", default=None, help="a numeric column for the lines' slopes")
    parser.add_argument("--random", default=None, choices=RANDOM_KINDS,
                        help="what varies between groups, in the mixed model and in no pooling alike: "
                             "intercept (no pooling = own intercept, shared slope: y ~ x + group), slope (shared "
                             "intercept, own slope), both or uncorrelated (own intercept and slope); default: both "
                             "with a covariate, intercept without")
    parser.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    parser.add_argument("--json", action="store_true", help="print the table as a JSON list of rows")


def add_pool_command(subparsers):
    """Register ``pool`` on a command line's subparsers (see lmm_core/cli.py)."""
    p = subparsers.add_parser(
        "pool", help="complete, no and partial pooling of a CSV file's groups, in one table",
        description="Fit one line for all, one line per group, and the mixed model; print every group's "
                    "intercept and slope under each.",
    )
    add_pool_arguments(p)
    p.set_defaults(handler=pool_command)
    return p


def pool_command(args) -> int:
    """Run ``python -m teaching pool``: print the pooling table. Bad input raises LmmError."""
    data = read_csv_for_pooling(args.data, args.group)
    random = args.random or ("both" if args.covariate is not None else "intercept")
    result = compare_pooling(data, args.response, args.group, args.covariate, random=random, reml=not args.ml)
    print(json.dumps(pool_table_json(result), allow_nan=False) if args.json else format_pooling(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m teaching ...``: the engine's command line with the ``pool`` command added."""
    return command_line(argv, commands=(add_pool_command,), prog=PROG)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
