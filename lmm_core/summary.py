"""A fit's summary as text that reads like lme4's ``summary(lmer(...))``.

The layout follows lme4's ``print.summary.merMod`` (lme4 1.1-31 on R 4.2) and
the number formatting follows R's own printing rules, so a student can put the
two printouts side by side:

* numbers in a column share one format, chosen as R's ``format()`` chooses it
  (``digits`` significant digits for the value that needs the most decimals,
  fixed notation unless scientific is narrower);
* the fixed-effects table follows ``printCoefmat`` (estimates and standard
  errors rounded together, t values to 3 decimals, then formatted to 4 digits);
* variances, standard deviations and correlations follow lme4's ``formatVC``;
* names in the correlation table are shortened as R's ``abbreviate()`` does;
* the formula is re-spaced as R's ``deparse()`` prints it (lines broken after
  60 characters) and long lines are wrapped as ``cat(fill = TRUE)`` wraps them.

Only the functions here know about R's printing; the fit object stays plain.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["format_summary", "format_r", "abbreviate", "deparse_formula"]

WIDTH = 80  # R's getOption("width")
DIGITS = 4  # print.summary.merMod: max(3, getOption("digits") - 3)
COR_MAX = 12  # getOption("lme4.summary.cor.max")
DEPARSE_CUTOFF = 60  # deparse()'s width.cutoff


# -- R's number formatting (format.c: scientific() and formatReal()) ----------
def _scientific(x: float, digits: int) -> tuple[bool, int, int, bool]:
    """(negative, exponent, significant digits needed, rounding widens) of x at ``digits`` digits."""
    if x == 0.0:
        return False, 0, 1, False
    neg = x < 0
    alpha = abs(x)
    mantissa, exponent = f"{alpha:.{digits - 1}e}".split("e")
    kpower = int(exponent)
    nsig = len(mantissa.replace(".", "").rstrip("0")) or 1
    widens = False
    if 0 < kpower <= 22:
        rgt = min(max(7 - kpower, 0), 22)
        widens = alpha < 10.0**kpower - 0.5 / 10.0**rgt
    return neg, kpower, nsig, widens


@dataclass
class _Fmt:
    width: int
    decimals: int
    sci: bool


def _format_spec(values, digits: int, nsmall: int = 0) -> _Fmt:
    finite = [float(v) for v in values if math.isfinite(float(v))]
    other = [float(v) for v in values if not math.isfinite(float(v))]
    other_w = max((len(_special(v)) for v in other), default=0)
    if not finite:
        return _Fmt(max(other_w, 1), 0, False)
    neg = 0
    rgt = mxsl = mxns = mxe = -(10**9)
    mxl = -(10**9)
    mne = 10**9
    for x in finite:
        neg_i, kpower, nsig, widens = _scientific(x, digits)
        left = kpower + 1
        if widens:
            left -= 1
        sleft = int(neg_i) + (1 if left <= 0 else left)
        right = nsig - left
        neg = max(neg, int(neg_i))
        rgt, mxl, mxsl, mxns = max(rgt, right), max(mxl, left), max(mxsl, sleft), max(mxns, nsig)
        mxe, mne = max(mxe, kpower), min(mne, kpower)
    if mxl < 0:
        mxsl = 1 + neg
    rgt = max(rgt, 0)
    w_fixed = mxsl + rgt + (rgt != 0)
    e = 2 if (mxe >= 100 or mne <= -99) else 1
    d = mxns - 1
    w_sci = neg + (d > 0) + d + 4 + e
    if w_fixed <= w_sci:
        if nsmall > rgt:
            rgt = nsmall
            w_fixed = mxsl + rgt + (rgt != 0)
        return _Fmt(max(w_fixed, other_w), rgt, False)
    return _Fmt(max(w_sci, other_w), d, True)


def _special(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    return "Inf" if x > 0 else "-Inf"


def _encode(x: float, f: _Fmt) -> str:
    x = float(x)
    if not math.isfinite(x):
        return _special(x).rjust(f.width)
    if f.sci:
        text = f"{x:.{f.decimals}e}"
        mant, exp = text.split("e")
        sign, digits_ = exp[0], exp[1:].lstrip("0")
        text = f"{mant}e{sign}{digits_.rjust(2, '0')}"
        return text.rjust(f.width)
    return f"{x:{f.width}.{f.decimals}f}"


def format_r(values, digits: int = 7, nsmall: int = 0) -> list[str]:
    """R's ``format(values, digits = digits, nsmall = nsmall)``: common width, common decimals."""
    values = [float(v) for v in np.ravel(np.asarray(values, dtype=float))]
    spec = _format_spec(values, digits, nsmall)
    return [_encode(v, spec) for v in values]


def _r_round(x, digits: int):
    """R's round() for arrays (NaN stays NaN)."""
    return np.round(np.asarray(x, dtype=float), digits)


def _zapsmall(x, digits: int):
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x)
    if not ok.any():
        return x
    mx = float(np.max(np.abs(x[ok])))
    if not math.isfinite(mx):
        return x
    d = max(0, digits - math.ceil(math.log10(mx))) if mx > 0 else digits
    return _r_round(x, d)


# -- R's abbreviate() ---------------------------------------------------------
_VOWELS = "aeiou"


def _strip_chars(name: str, minlength: int) -> str:
    """The C routine behind abbreviate() (method 'left.kept', use.classes = TRUE)."""
    b = list(name)

    def done() -> str:
        s = b[:]
        if len(s) > minlength:
            for i in range(len(s) - 1, 0, -1):
                if s[i].isspace():
                    del s[i]
        return "".join(s)

    if len(b) < minlength:
        return done()
    upper = len(b) - 1
    nspace = 0
    trailing = True
    for i in range(upper, 0, -1):  # drop trailing blanks, count inner ones
        if b[i].isspace():
            if trailing:
                del b[i]
            else:
                nspace += 1
        else:
            trailing = False
        if len(b) - nspace <= minlength:
            return done()

    def at(i):
        return b[i] if 0 <= i < len(b) else ""

    def first_char(i):  # the character starts a word
        return at(i - 1).isspace()

    def last_char(i):  # the character ends a word
        return not at(i - 1).isspace() and (at(i + 1) == "" or at(i + 1).isspace())

    def low_vowel(i):
        return at(i) != "" and at(i) in _VOWELS

    def is_lower(i):
        c = at(i)
        return c != "" and "a" <= c <= "z"

    passes = [
        lambda i: low_vowel(i) and last_char(i),
        lambda i: low_vowel(i) and not first_char(i),
        lambda i: is_lower(i) and last_char(i),
        lambda i: is_lower(i) and not first_char(i),
    ]
    for drop in passes:
        for i in range(upper, 0, -1):
            if i < len(b) and drop(i):
                del b[i]
            if len(b) - nspace <= minlength:
                return done()
    upper = len(b) - 1
    for i in range(upper, 0, -1):  # brute force
        if i < len(b) and not first_char(i) and not b[i].isspace():
            del b[i]
        if len(b) - nspace <= minlength:
            return done()
    return done()


def abbreviate(names, minlength: int = 4) -> list[str]:
    """R's ``abbreviate(names, minlength)``: shorten, lengthening where results would clash."""
    old = [str(n).strip(" ") for n in names]
    unique = list(dict.fromkeys(old))
    x = list(unique)
    todo = [True] * len(unique)
    m = minlength
    while True:
        for i, flag in enumerate(todo):
            if flag:
                x[i] = _strip_chars(unique[i], m)
        seen, dup = set(), [False] * len(x)
        for i, v in enumerate(x):
            dup[i] = v in seen
            seen.add(v)
        if not any(dup):
            break
        m += 1
        clash = {x[i] for i in range(len(x)) if dup[i]}
        todo = [dup[i] or x[i] in clash for i in range(len(x))]
    lookup = dict(zip(unique, x))
    return [lookup[n] for n in old]


# -- R's printing of vectors and matrices ---------------------------------------
def _print_named(names: list[str], cells: list[str]) -> list[str]:
    """print() of a named vector: right-justified columns, each followed by one space."""
    w = max([len(c) for c in cells] + [len(n) for n in names])
    per_line = max(1, WIDTH // (w + 1))
    lines = []
    for start in range(0, len(cells), per_line):
        lines.append("".join(n.rjust(w) + " " for n in names[start : start + per_line]))
        lines.append("".join(c.rjust(w) + " " for c in cells[start : start + per_line]))
    return lines


def _print_matrix(cells: list[list[str]], rownames: list[str], colnames: list[str], right: bool) -> list[str]:
    """print() of a character matrix with quote = FALSE, split into column blocks at 80 characters."""
    nrow, ncol = len(rownames), len(colnames)
    if ncol == 0:
        return []
    widths = [max([len(colnames[j])] + [len(cells[i][j]) for i in range(nrow)]) for j in range(ncol)]
    rlabw = max([len(r) for r in rownames], default=0)
    lines: list[str] = []
    jmin = 0
    while jmin < ncol:
        width, jmax = rlabw, jmin
        while True:
            width += widths[jmax] + 1
            jmax += 1
            if not (jmax < ncol and width + widths[jmax] + 1 < WIDTH):
                break
        cols = range(jmin, jmax)
        just = (lambda s, w: s.rjust(w)) if right else (lambda s, w: s.ljust(w))
        lines.append(" " * rlabw + "".join(" " + just(colnames[j], widths[j]) for j in cols))
        for i in range(nrow):
            lines.append(rownames[i].ljust(rlabw) + "".join(" " + just(cells[i][j], widths[j]) for j in cols))
        jmin = jmax
    return lines


def _cat_fill(*objects) -> list[str]:
    """cat(..., fill = TRUE): items joined by a space, a new line when the next would pass 80 characters."""
    out, width = "", 0
    for k, obj in enumerate(objects):
        items = [obj] if isinstance(obj, str) else list(obj)
        if k:
            out += " "
        if not items:
            continue
        first = items[0]
        if k > 0 and width + len(first) + 1 > WIDTH:
            out += "\n"
            width = 0
        for i, item in enumerate(items):
            out += item
            width += len(item) + 1
            if i < len(items) - 1:
                out += " "
                nxt = items[i + 1]
                if width + len(nxt) + 1 > WIDTH:
                    out += "\n"
                    width = 0
    return out.split("\n")


# -- R's deparse() of the formula ----------------------------------------------
_RESERVED = {
    "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL",
    "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in",
}
# binary operators: (left binding power, spaced as ' op ' by deparse)
_BINARY = {"~": (1, True), "|": (2, True), "||": (2, True), "+": (3, True), "-": (3, True),
           "*": (4, True), "/": (4, False), ":": (5, False), "^": (7, False)}
_UNARY_BP = 6


def _syntactic(name: str) -> bool:
    if not name or name in _RESERVED:
        return False
    if name[0] == "." and len(name) > 1 and name[1].isdigit():
        return False
    if not (name[0].isalpha() or name[0] == "."):
        return False
    return all(c.isalnum() or c in "._" for c in name)


def _r_number(text: str) -> str:
    value = float(text)
    return format_r([value], digits=15)[0].strip()


class _FormulaParser:
    """A precedence parser for the checked tokens of a formula (R's operator precedences)."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        t = self.peek()
        if t is None:
            raise ValueError("unexpected end")
        self.i += 1
        return t

    def parse(self):
        node = self.expr(0)
        if self.peek() is not None:
            raise ValueError("trailing tokens")
        return node

    def expr(self, min_bp: int):
        t = self.take()
        if t.kind == "op" and t.text in ("-", "+", "~"):
            bp = 0 if t.text == "~" else _UNARY_BP
            left = ("unary", t.text, self.expr(bp))
        elif t.kind == "op" and t.text == "(":
            inner = self.expr(0)
            if self.take().text != ")":
                raise ValueError("expected )")
            left = ("paren", inner)
        elif t.kind == "number":
            left = ("num", _r_number(t.text))
        elif t.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "op" and nxt.text == "(":
                self.take()
                args = []
                if not (self.peek() is not None and self.peek().text == ")"):
                    args.append(self.expr(0))
                if self.take().text != ")":
                    raise ValueError("expected )")
                left = ("call", t.text, args)
            else:
                left = ("name", t.text)
        else:
            raise ValueError(f"unexpected {t.text}")
        while True:
            op = self.peek()
            if op is None or op.kind != "op" or op.text not in _BINARY:
                break
            bp, _ = _BINARY[op.text]
            if bp <= min_bp:  # left-associative; '^' parses its right side below its own power
                break
            self.take()
            right = self.expr(bp - 1 if op.text == "^" else bp)
            left = ("bin", op.text, left, right)
        return left


class _Deparser:
    """R's deparse2buff for the node kinds a formula has, with its line breaking."""

    def __init__(self, cutoff: int = DEPARSE_CUTOFF):
        self.cutoff = cutoff
        self.lines: list[str] = []
        self.buf = ""
        self.indent = 0
        self.startline = True

    def put(self, s: str):
        if self.startline:
            self.startline = False
            for i in range(1, self.indent + 1):
                self.buf += "    " if i <= 4 else "  "
        self.buf += s

    def writeline(self):
        self.lines.append(self.buf)
        self.buf = ""
        self.startline = True

    def linebreak(self, state: list[bool]):
        if len(self.buf) > self.cutoff:
            if not state[0]:
                state[0] = True
                self.indent += 1
            self.writeline()

    def node(self, n):
        kind = n[0]
        if kind == "name":
            self.put(n[1] if _syntactic(n[1]) else f"`{n[1]}`")
        elif kind == "num":
            self.put(n[1])
        elif kind == "paren":
            self.put("(")
            self.node(n[1])
            self.put(")")
        elif kind == "call":
            self.put((n[1] if _syntactic(n[1]) else f"`{n[1]}`") + "(")
            state = [False]
            for k, arg in enumerate(n[2]):
                if k:
                    self.put(", ")
                    self.linebreak(state)
                self.node(arg)
            if state[0]:
                self.indent -= 1
            self.put(")")
        elif kind == "unary":
            self.put(n[1])
            self.node(n[2])
        elif kind == "bin":
            op, left, right = n[1], n[2], n[3]
            spaced = _BINARY[op][1]
            self.node(left)
            if spaced:
                self.put(f" {op} ")
                state = [False]
                self.linebreak(state)
                self.node(right)
                if state[0]:
                    self.indent -= 1
            else:
                self.put(op)
                self.node(right)

    def run(self, tree) -> list[str]:
        self.node(tree)
        if self.buf or not self.lines:
            self.writeline()
        return self.lines


def deparse_formula(text: str) -> list[str]:
    """The formula as R's ``deparse()`` prints it (one string per output line)."""
    from .formula import tokenize

    try:
        tree = _FormulaParser(tokenize(text)).parse()
        return _Deparser().run(tree)
    except Exception:  # noqa: BLE001 - fall back to the text as typed
        return [" ".join(text.split())]


# -- the sections ---------------------------------------------------------------
def _title(fit) -> str:
    method = "REML" if fit.reml else "maximum likelihood "  # lme4's paste() leaves the trailing space
    return f"Linear mixed model fit by {method} ['lmerMod']"


def _call_lines(fit, data_name, formula_text=None) -> list[str]:
    formula = getattr(fit.design, "formula", None)
    text = formula.text if formula is not None else formula_text
    if text is None:
        lines = ["Formula: (model built from arrays)"]
    else:
        lines = _cat_fill("Formula:", deparse_formula(text))
    if data_name is not None:
        lines += _cat_fill("   Data:", str(data_name))
    return lines


def _fit_criterion(fit) -> list[str]:
    if fit.reml:
        value = format_r([round(float(fit.objective), 1)], digits=7)[0].strip()
        return _cat_fill("REML criterion at convergence:", value)
    names = ["AIC", "BIC", "logLik", "deviance", "df.resid"]
    df_resid = fit.nobs - fit.df
    values = [round(float(v), 1) for v in (fit.aic, fit.bic, fit.loglik, fit.objective, df_resid)]
    cells = format_r(values, digits=7)
    cells[4] = format_r([values[4]], digits=7)[0]
    return _print_named(names, cells)


def _residual_lines(fit) -> list[str]:
    scaled = np.asarray(fit.residuals, dtype=float) / float(fit.sigma)
    scaled = scaled[~np.isnan(scaled)]
    if scaled.size == 0 or not np.all(np.isfinite(scaled)):
        q = np.full(5, np.nan)
    else:
        q = np.quantile(scaled, [0.0, 0.25, 0.5, 0.75, 1.0])
    q = _zapsmall(q, DIGITS + 1)
    return ["Scaled residuals: "] + _print_named(["Min", "1Q", "Median", "3Q", "Max"], format_r(q, DIGITS))


def _varcorr_lines(fit) -> list[str]:
    vc = list(fit.varcorr)
    groups, names, sds = [], [], []
    for term in vc:
        for k, name in enumerate(term.terms):
            groups.append(term.group if k == 0 else "")
            names.append(str(name))
            sds.append(float(term.sd[k]))
    groups.append("Residual")
    names.append("")
    sds.append(float(fit.sigma))
    sds_arr = np.asarray(sds)
    columns = {
        "Groups": groups,
        "Name": names,
        "Variance": format_r(sds_arr**2, DIGITS),
        "Std.Dev.": format_r(sds_arr, DIGITS),
    }
    colnames = list(columns)
    rows = [[columns[c][i] for c in colnames] for i in range(len(groups))]
    maxlen = max((len(t.terms) for t in vc), default=1)
    if maxlen > 1:
        dig = max(2, DIGITS - 2)
        corr_rows = []
        for term in vc:
            q = len(term.terms)
            cc = format_r(_r_round(np.asarray(term.corr, dtype=float), dig), digits=7, nsmall=dig)
            block = [[cc[i * q + j] if j < i else "" for j in range(q)] + [""] * (maxlen - q) for i in range(q)]
            corr_rows.extend(r[: maxlen - 1] for r in block)
        corr_rows.append([""] * (maxlen - 1))
        rows = [r + c for r, c in zip(rows, corr_rows)]
        colnames += ["Corr"] + [""] * (maxlen - 2)
    return ["Random effects:"] + _print_matrix(rows, [""] * len(rows), colnames, right=False)


def _groups_line(fit) -> list[str]:
    groups = "; ".join(f"{g}, {n}" for g, n in fit.ngroups.items())
    return _cat_fill(f"Number of obs: {fit.nobs}, groups: ", groups)


def _coef_table(fit) -> list[str]:
    est = np.asarray(fit.fixef, dtype=float)
    se = np.asarray(fit.fixef_se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = est / se
    names = list(fit.fixed_names)
    p = len(names)
    coef_se = np.column_stack([est, se])
    acs = np.abs(coef_se)
    cells = [["", "", ""] for _ in range(p)]
    finite = np.isfinite(acs)
    if finite.any():
        nz = acs[finite & (acs != 0)]
        digmin = 1 + (np.floor(np.log10([nz.min(), nz.max()])) if nz.size else np.zeros(2))
        dec = int(max(1, np.max(DIGITS - digmin)))
        flat = format_r(_r_round(coef_se, dec).ravel(), DIGITS)
        for i in range(p):
            cells[i][0], cells[i][1] = flat[2 * i], flat[2 * i + 1]
    dig_tst = max(1, min(5, DIGITS - 1))
    tcells = format_r(_r_round(tval, dig_tst), DIGITS)
    for i in range(p):
        cells[i][2] = tcells[i]
    # a non-zero value that printed as zero is shown with fewer digits instead (printCoefmat)
    for i in range(p):
        for j, v in enumerate((est[i], se[i])):
            if not math.isfinite(v):
                cells[i][j] = "NaN" if math.isnan(v) else cells[i][j]
                continue
            try:
                shown = float(cells[i][j])
            except ValueError:
                continue
            if (v == 0) != (shown == 0):
                cells[i][j] = format_r([v], max(1, DIGITS - 1))[0]
    for j in range(3):
        w = max(len(cells[i][j]) for i in range(p))
        for i in range(p):
            cells[i][j] = cells[i][j].rjust(w)
    return _print_matrix(cells, names, ["Estimate", "Std. Error", "t value"], right=True)


def _correlation_lines(fit) -> list[str]:
    names = list(fit.fixed_names)
    p = len(names)
    if p <= 1:
        return []
    if p > COR_MAX:
        return [
            "",
            f"Correlation matrix not shown by default, as p = {p} > {COR_MAX}.",
            "Use fit.vcov (the covariance matrix of the fixed effects) if you need it.",
        ]
    V = np.asarray(fit.vcov, dtype=float)
    sd = np.sqrt(np.diag(V))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = V / np.outer(sd, sd)
    np.fill_diagonal(corr, 1.0)
    flat = format_r(_r_round(corr, 3).ravel(order="F"), digits=7, nsmall=3)
    cell = lambda i, j: flat[j * p + i] if i > j else ""  # noqa: E731
    rows = [[cell(i, j) for j in range(p - 1)] for i in range(1, p)]
    rns = abbreviate(names, 11)[1:]
    cns = abbreviate(names, 6)[: p - 1]
    return ["", "Correlation of Fixed Effects:"] + _print_matrix(rows, rns, cns, right=False)


_SINGULAR = "boundary (singular) fit: see help('isSingular')"
_NOT_CONVERGED = "The optimizer did not report convergence"


def _warning_lines(fit) -> list[str]:
    messages = [str(m) for m in getattr(fit, "messages", [])]
    fit_msgs = [m for m in messages if m != _SINGULAR and not m.startswith(_NOT_CONVERGED)]
    lines = []
    if fit_msgs:
        lines += ["fit warnings:"] + fit_msgs
    lme4_msgs = []
    if fit.singular:
        lme4_msgs.append(_SINGULAR)
    converged = bool(getattr(fit, "converged", True))
    if converged and not lme4_msgs:
        return lines
    if converged:
        lines.append("optimizer (nloptwrap) convergence code: 0 (OK)")
    else:
        detail = getattr(getattr(fit, "optimum", None), "message", "") or "see the optimizer's message"
        lines.append(f"optimizer (L-BFGS-B) convergence code: 1 ({detail})")
        lme4_msgs.append("Model failed to converge: the optimizer stopped before it met its convergence test.")
    return lines + lme4_msgs


def format_summary(fit, data_name: str | None = None, formula: str | None = None) -> str:
    """The text of lme4's ``summary()`` for ``fit``; ``data_name`` fills the ``Data:`` line, and
    ``formula`` the ``Formula:`` line of a model built from arrays (a fit from a formula prints its own)."""
    lines = [_title(fit)]
    lines += _call_lines(fit, data_name, formula)
    lines.append("")
    lines += _fit_criterion(fit)
    lines.append("")
    lines += _residual_lines(fit)
    lines.append("")
    lines += _varcorr_lines(fit)
    lines += _groups_line(fit)
    if len(fit.fixed_names) > 0:
        lines += ["", "Fixed effects:"]
        lines += _coef_table(fit)
        lines += _correlation_lines(fit)
    lines += _warning_lines(fit)
    return "\n".join(lines)
