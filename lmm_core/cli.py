"""Command line: fit an lme4-style model to a CSV file.

    python -m lmm_core fit "Reaction ~ Days + (Days | Subject)" --data datasets/sleepstudy.csv
    python -m lmm_core fit "Reaction ~ Days + (1 | Subject)" --data sleepstudy.csv --ml --json

Every failure (a bad formula, bad data, a missing or unreadable file, a bad
argument) prints one line ``error: ...`` on stderr and exits with status 2.

Adding a subcommand: ``main(argv, commands=(register, ...))`` calls each ``register(subparsers)``
on the parser's subcommand registry; a register function adds its subparser and gives it a
handler with ``set_defaults(handler=...)`` (a handler takes the parsed arguments and returns
the exit status). ``main()`` runs the handler and turns ``LmmError``/``CliError`` into the
one-line error. The teaching package adds its ``pool`` command this way (``python -m teaching
pool``); ``python -m lmm_core pool`` hands the same arguments over to it, because the engine
never imports the packages built on it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import LmmError

__version__ = "0.1.0"
PROG = "python -m lmm_core"

# The keys of a model entry in lme4_reference.json that `fit --json` reproduces.
REFERENCE_KEYS = (
    "nobs", "ngroups", "fixef", "fixef_se", "vcov", "theta", "sigma", "objective", "loglik",
    "aic", "bic", "df", "singular", "varcorr", "ranef", "coef",
)


class CliError(Exception):
    """A problem to report as one ``error: ...`` line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so main() reports one line."""

    def error(self, message):  # noqa: D401 - argparse's hook
        raise CliError(message)


# -- reading the data ---------------------------------------------------------
def _header(path: Path) -> list[str]:
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except pd.errors.EmptyDataError:
        raise CliError(f"{path} is empty: it has no header line with column names.") from None


def _as_factor(column: pd.Series) -> pd.Series:
    """A grouping column read as text, turned into a factor ordered as R orders it.

    lme4's read.csv keeps numeric ids (308, 309, ...) numeric, and factor() then orders
    them by value: 2 before 10. Text ids are ordered as text.
    """
    present = column.dropna()
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all() and np.isfinite(numbers.to_numpy(float)).all():
        from .design import format_level

        values = pd.to_numeric(column, errors="coerce")
        labels = values.map(lambda v: None if pd.isna(v) else format_level(v))
        order = sorted(set(float(v) for v in numbers))
        categories = list(dict.fromkeys(format_level(v) for v in order))
        return pd.Series(pd.Categorical(labels, categories=categories), index=column.index, name=column.name)
    return column


def read_data(path: str | Path, formula: str) -> pd.DataFrame:
    """Read ``path`` with pandas; every grouping column of ``formula`` is read as a string factor."""
    from .formula import parse_formula

    path = Path(path)
    if not path.exists():
        raise CliError(f"no such file: {path}")
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a CSV file.")
    try:
        columns = _header(path)
        parsed = parse_formula(formula, columns)  # FormulaError (an LmmError) propagates
        grouping = [c for c in parsed.grouping_columns if c in columns]
        data = pd.read_csv(path, dtype={c: str for c in grouping})
    except (LmmError, CliError):
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise CliError(f"{path} is not a readable CSV file: {_one_line(exc)}") from None
    for c in grouping:
        data[c] = _as_factor(data[c])
    return data


# -- output -------------------------------------------------------------------
def _clean(value):
    """JSON-safe: numpy scalars to Python, non-finite numbers to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def fit_json(fit, data_file: str | None = None) -> dict:
    """The fit as one JSON object: the reference entry's keys first, then a few extras."""
    d = fit.to_dict()
    out = {k: d[k] for k in REFERENCE_KEYS}
    out["formula"] = d.get("formula")
    out["reml"] = bool(fit.reml)
    if data_file is not None:
        out["data"] = data_file
    out["fitted_head"] = [float(v) for v in np.asarray(fit.fitted, dtype=float)[:12]]
    out["converged"] = bool(d.get("converged", fit.converged))
    out["messages"] = list(d.get("messages", fit.messages))
    return _clean(out)


# -- subcommands --------------------------------------------------------------
def run_fit(args) -> int:
    from .model import lmer

    data = read_data(args.data, args.formula)
    fit = lmer(args.formula, data, reml=not args.ml)
    table = fit.confint(method=args.confint, level=args.level) if args.confint else None
    if args.json:
        out = fit_json(fit, Path(args.data).name)
        if table is not None:
            out["confint"] = confint_json(table, args.confint, args.level)
        print(json.dumps(_clean(out), allow_nan=False))
    else:
        print(fit.summary(data_name=Path(args.data).stem))
        if table is not None:
            from .intervals import format_confint

            print(format_confint(table))
    return 0


def confint_json(table, method: str, level: float) -> dict:
    """The interval table as JSON: method, level, the two column names and one row per parameter
    (name, lower, upper; null where lme4 prints NA)."""
    lo, hi = table.columns
    return {
        "method": method, "level": level, "columns": [str(lo), str(hi)],
        "rows": [{"name": str(name), "lower": float(table.at[name, lo]), "upper": float(table.at[name, hi])}
                 for name in table.index],
    }


def _method(text: str) -> str:
    for name in ("profile", "Wald"):
        if text.lower() == name.lower():
            return name
    raise argparse.ArgumentTypeError(f"invalid choice: '{text}' (choose profile or Wald)")


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: '{text}'") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"the level must be between 0 and 1, not {text}")
    return value


def add_fit_command(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "fit", help="fit a linear mixed model to a CSV file and print lme4's summary (or JSON)",
        description="Fit FORMULA (lme4 syntax) to the CSV file given by --data, by REML unless --ml.",
    )
    p.add_argument("formula", metavar="FORMULA", help='e.g. "Reaction ~ Days + (Days | Subject)"')
    p.add_argument("--data", required=True, metavar="FILE.csv", help="the data, a CSV file with a header line")
    p.add_argument("--ml", action="store_true", help="fit by maximum likelihood instead of REML")
    p.add_argument("--json", action="store_true", help="print the fit as one JSON object instead of the summary")
    p.add_argument("--confint", nargs="?", const="profile", default=None, type=_method, metavar="profile|Wald",
                   help="also print confidence intervals as lme4's confint() (profile if no method is given)")
    p.add_argument("--level", type=_level, default=0.95, metavar="LEVEL",
                   help="confidence level of --confint (default 0.95)")
    p.set_defaults(handler=run_fit)
    return p


HANDED_OVER = {"pool": "complete, no and partial pooling of a CSV file's groups (python -m teaching pool)"}


def run_handed_over(argv: list[str]) -> int:
    """``python -m lmm_core pool ...``: run ``python -m teaching pool ...`` with the same arguments.

    The pool command belongs to the teaching computations, which sit above the engine; the
    engine starts it as a separate command instead of importing it.
    """
    here = str(Path(__file__).resolve().parents[1])  # the folder holding lmm_core/ and teaching/
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "teaching", *argv], env=env).returncode


def build_parser(commands=(), prog: str = PROG) -> argparse.ArgumentParser:
    """The command-line parser: ``fit`` plus each ``register(subparsers)`` in ``commands``."""
    parser = _Parser(prog=prog, description="Linear mixed models that give lme4's answers.")
    parser.add_argument("--version", action="version", version=f"lmm_core {__version__}")
    parser.subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_fit_command(parser.subparsers)
    for register in commands:
        register(parser.subparsers)
    if not commands:  # listed in --help; main() hands them over before parsing
        for name, help_text in HANDED_OVER.items():
            parser.subparsers.add_parser(name, help=help_text)
    return parser


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "plain_message", None) or str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None, commands=(), prog: str = PROG) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error). ``commands``: extra
    subcommand register functions (see the module's docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not commands and argv and argv[0] in HANDED_OVER:
        return run_handed_over(argv)
    try:
        parser = build_parser(commands, prog)
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            raise CliError("choose a command, e.g. fit (see --help).")
        return int(handler(args) or 0)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except (LmmError, CliError) as exc:
        msg = _one_line(exc)
        pos = getattr(exc, "position", None)
        if pos is not None:
            msg += f" (at character {pos + 1} of the formula)"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to say
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - avoid a second error at exit
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - the promise is: one line, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
