"""Reading lme4 formulas: ``y ~ fixed + (expr | g) + (expr || g) + (1 | g1/g2)``.

Only the bars are parsed here. Each piece that becomes a model matrix (the fixed
part, the left side of each bar) is handed to formulaic as a string rebuilt from
checked tokens: every name must be a column of the data or one of a few
whitelisted transforms, so nothing a user types is ever evaluated as code.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from . import limits
from .errors import FormulaError

# Transforms a formula may call; formulaic is given exactly these functions.
ALLOWED_FUNCTIONS = ("log", "log10", "exp", "sqrt", "center", "scale")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<quoted>`[^`]*`)
  | (?P<number>\d+\.?\d*(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d][\w.]*|\.[^\W\d][\w.]*)
  | (?P<op>\|\||[~+\-*:/^()|])
    """,
    re.VERBOSE | re.UNICODE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number" or "op"
    text: str  # for names: the column name itself, without backticks
    pos: int


@dataclass(frozen=True)
class RandomTerm:
    """One ``(expr | group)`` term after expanding ``||`` and ``/``."""

    expr: str  # formulaic right-hand side for the term's columns, e.g. "1 + `Days`"
    factors: tuple[str, ...]  # grouping columns whose interaction defines the groups
    label: str  # how the term reads, e.g. "Days | Subject"
    column_terms: frozenset = field(default=frozenset(), compare=False)  # the left side's terms (variable sets)

    @property
    def group_name(self) -> str:
        return ":".join(self.factors)


@dataclass(frozen=True)
class ParsedFormula:
    text: str
    response: str  # formulaic expression for the response
    fixed: str  # formulaic right-hand side of the fixed part
    random: tuple[RandomTerm, ...]
    variables: tuple[str, ...] = field(default=())  # every column the formula uses
    fixed_terms: frozenset = field(default=frozenset(), compare=False)  # the fixed part's terms (variable sets)

    @property
    def grouping_columns(self) -> tuple[str, ...]:
        seen: list[str] = []
        for term in self.random:
            for f in term.factors:
                if f not in seen:
                    seen.append(f)
        return tuple(seen)


def tokenize(formula: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(formula):
        m = _TOKEN.match(formula, pos)
        if m is None:
            raise FormulaError(
                f"Unexpected character {formula[pos]!r}. A formula uses column names, numbers "
                "and the symbols ~ + - * : / ^ ( ) |.",
                formula,
                pos,
            )
        kind = m.lastgroup
        text = m.group()
        if kind == "quoted":
            if len(text) == 2:
                raise FormulaError("Empty backtick-quoted name.", formula, pos)
            tokens.append(Token("name", text[1:-1], pos))
        elif kind != "space":
            tokens.append(Token(kind, text, pos))
        pos = m.end()
    return tokens


def suggest(name: str, columns) -> str:
    """A 'did you mean' hint for a name that is not a column."""
    columns = [str(c) for c in columns]
    lower = {c.lower(): c for c in columns}
    hits = [lower[name.lower()]] if name.lower() in lower else []
    hits += [c for c in difflib.get_close_matches(name, columns, n=3, cutoff=0.5) if c not in hits]
    if hits:
        return " Did you mean " + " or ".join(f"'{h}'" for h in hits[:3]) + "?"
    shown = ", ".join(f"'{c}'" for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
    return f" The columns are: {shown}."


def _quote(name: str) -> str:
    return f"`{name}`"


def _render(tokens: list[Token]) -> str:
    """Rebuild a formulaic string from checked tokens (names always backticked)."""
    out = ""
    for i, t in enumerate(tokens):
        is_call = t.kind == "name" and i + 1 < len(tokens) and tokens[i + 1].text == "("
        after_call = i > 0 and t.text == "(" and tokens[i - 1].kind == "name"
        text = t.text if (t.kind != "name" or is_call) else _quote(t.text)
        out += text if (not out or after_call) else " " + text  # "log(x)": formulaic needs no space
    return out


def _display(tokens: list[Token]) -> str:
    """How a piece reads to a person, lme4-style spacing."""
    text = " ".join(t.text for t in tokens)
    text = re.sub(r"\( ", "(", text)
    return re.sub(r" \)", ")", text).replace(" : ", ":")


class _Parser:
    def __init__(self, formula: str, columns, limit: limits.Limits | None = None):
        self.limits = limits.resolve(limit)
        self.where = "formula"
        self.formula = formula
        self.columns = list(columns)
        self.column_set = set(self.columns)
        self.used: list[str] = []

    def fail(self, message: str, pos: int | None):
        raise FormulaError(message, self.formula, pos)

    # -- checks -------------------------------------------------------------
    def check_balanced(self, tokens: list[Token]) -> None:
        depth = 0
        for t in tokens:
            if t.text == "(":
                depth += 1
                if depth > self.limits.paren_depth:
                    limits.refuse("paren_depth", f"Parentheses are nested more than {self.limits.paren_depth} "
                                  "deep here, more than any model needs. Remove the extra parentheses.")
            elif t.text == ")":
                depth -= 1
                if depth < 0:
                    self.fail("This closing parenthesis has no opening one.", t.pos)
        if depth > 0:
            opener = [t for t in tokens if t.text == "("][-1]
            self.fail("A parenthesis is opened but never closed.", opener.pos)

    def check_expression(self, tokens: list[Token], where: str) -> frozenset:
        """Validate with a tiny grammar; names must be columns or allowed functions. Returns the
        model terms the piece expands to, each a frozenset of its variables (refused above the
        ``terms`` limit).

        expr := ['-'] term (('+' | '-') term)*     term := factor ((':' | '*' | '/') factor)*
        factor := atom ['^' number]                atom := name | number | func '(' expr ')' | '(' expr ')'

        Each rule returns the set of terms it stands for (a term is a set of variables), so that
        ``(a + b)^2`` is known to mean a, b and a:b before formulaic is asked to expand it; the
        sets are cut off at the limit, so a hostile power or product is refused at no cost.
        """
        if not tokens:
            self.fail(f"The {where} is empty.", None)
        self.where = where
        end, terms = self._expr(tokens, 0)
        if end < len(tokens):
            t = tokens[end]
            if t.text in ("|", "||"):
                self.fail("A bar '|' belongs inside parentheses: write (1 | group).", t.pos)
            self.fail(f"Unexpected '{t.text}' here: put '+' between terms.", t.pos)
        return frozenset(terms)

    def _capped(self, terms: set) -> set:
        if len(terms) > self.limits.terms:
            limits.refuse("terms", f"The {self.where} expands to more than {limits.count(self.limits.terms)} "
                          "terms (products with * and powers with ^ multiply quickly), the most a model may have "
                          "here. Write out the terms you need, e.g. a + b + a:b instead of (a + b + c + d)^4.")
        return terms

    def _product(self, left: set, right: set) -> set:
        return self._capped({a | b for a in left for b in right})

    def _expr(self, tokens: list[Token], i: int):
        if i < len(tokens) and tokens[i].text == "-":
            i += 1
        i, terms = self._term(tokens, i)
        terms = set(terms)
        while i < len(tokens) and tokens[i].text in ("+", "-"):
            i, more = self._term(tokens, i + 1)
            terms = self._capped(terms | more)
        return i, terms

    def _term(self, tokens: list[Token], i: int):
        i, terms = self._factor(tokens, i)
        while i < len(tokens) and tokens[i].text in (":", "*", "/"):
            op = tokens[i].text
            i, right = self._factor(tokens, i + 1)
            if op == ":":
                terms = self._product(terms, right)
            elif op == "*":
                terms = self._capped(terms | right | self._product(terms, right))
            else:  # a / b = a + a:b, with all of a's variables in the inner term
                everything = frozenset().union(*terms) if terms else frozenset()
                terms = self._capped(terms | self._product({everything}, right))
        return i, terms

    def _factor(self, tokens: list[Token], i: int):
        i, terms = self._atom(tokens, i)
        if i < len(tokens) and tokens[i].text == "^":
            if i + 1 >= len(tokens) or tokens[i + 1].kind != "number":
                self.fail("'^' must be followed by a whole number, as in (a + b)^2.", tokens[i].pos)
            number = tokens[i + 1]
            try:
                power = float(number.text)
            except ValueError:  # pragma: no cover - the tokenizer only passes numbers
                power = float("nan")
            if not (power >= 1 and power == int(power)):
                self.fail("'^' must be followed by a whole number of at least 1, as in (a + b)^2.", number.pos)
            if power > self.limits.power:
                limits.refuse("power", f"The power {number.text} after '^' is larger than "
                              f"{self.limits.power}, the largest allowed here: (a + b)^n makes every product of "
                              "up to n of the terms, so a large n only repeats them. Use a small power, e.g. ^2.")
            result = set(terms)
            for _ in range(int(power) - 1):
                grown = self._capped(result | self._product(result, terms))
                if grown == result:  # every product is already there: higher powers add nothing
                    break
                result = grown
            terms = result
            i += 2
        return i, terms

    def _atom(self, tokens: list[Token], i: int):
        if i >= len(tokens):
            last = tokens[-1]
            self.fail(f"Something is missing after '{last.text}'.", last.pos + len(last.text))
        t = tokens[i]
        if t.kind == "number":
            return i + 1, {frozenset()}
        if t.text == "(":
            j, terms = self._expr(tokens, i + 1)
            if j >= len(tokens) or tokens[j].text != ")":
                self.fail("Expected ')' here.", tokens[min(j, len(tokens) - 1)].pos)
            return j + 1, terms
        if t.kind == "name":
            if i + 1 < len(tokens) and tokens[i + 1].text == "(":
                if t.text not in ALLOWED_FUNCTIONS:
                    self.fail(
                        f"'{t.text}(...)' is not a transform this app knows. Allowed: "
                        + ", ".join(ALLOWED_FUNCTIONS) + ".",
                        t.pos,
                    )
                j, _ = self._expr(tokens, i + 2)
                if j >= len(tokens) or tokens[j].text != ")":
                    self.fail("Expected ')' to close the function call.", tokens[min(j, len(tokens) - 1)].pos)
                call = " ".join(x.text for x in tokens[i: j + 1])
                return j + 1, {frozenset({call})}
            if t.text not in self.column_set:
                self.fail(f"There is no column named '{t.text}'." + suggest(t.text, self.columns), t.pos)
            if t.text not in self.used:
                self.used.append(t.text)
            return i + 1, {frozenset({t.text})}
        if t.text in ("|", "||"):
            self.fail("A bar '|' can only appear inside a random-effects term like (1 | group).", t.pos)
        self.fail(f"Expected a column name or a number, found '{t.text}'.", t.pos)

    # -- structure ----------------------------------------------------------
    def split_top(self, tokens: list[Token], seps: tuple[str, ...]) -> list[tuple[Token | None, list[Token]]]:
        """Split at top-level separators; returns (separator, piece) pairs."""
        parts: list[tuple[Token | None, list[Token]]] = []
        depth, sep, piece = 0, None, []
        for t in tokens:
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
            if depth == 0 and t.kind == "op" and t.text in seps:
                parts.append((sep, piece))
                sep, piece = t, []
            else:
                piece.append(t)
        parts.append((sep, piece))
        return parts

    def parse(self) -> ParsedFormula:
        tokens = tokenize(self.formula)
        if not tokens:
            self.fail("The formula is empty. Write it as: response ~ covariate + (1 | group).", 0)
        self.check_balanced(tokens)
        tildes = [i for i, t in enumerate(tokens) if t.text == "~"]
        if not tildes:
            self.fail("A formula needs '~' between the response and the predictors, e.g. y ~ x + (1 | g).", None)
        if len(tildes) > 1:
            self.fail("A formula has exactly one '~'.", tokens[tildes[1]].pos)
        lhs, rhs = tokens[: tildes[0]], tokens[tildes[0] + 1 :]
        if not lhs:
            self.fail("Put the response (the column to explain) before '~'.", tokens[0].pos)
        if not rhs:
            self.fail("Nothing after '~': add predictors, e.g. 1 + x + (1 | g).", tokens[-1].pos + 1)
        self.check_expression(lhs, "response")
        fixed_tokens: list[Token] = []
        random: list[RandomTerm] = []
        for sep, piece in self.split_top(rhs, ("+", "-")):
            if not piece:
                if sep is not None or len(rhs) == 0:
                    self.fail("A '+' or '-' with nothing after it.", (sep or rhs[0]).pos)
                continue
            if self.is_random(piece):
                if sep is not None and sep.text == "-":
                    self.fail("A random-effects term cannot be subtracted.", sep.pos)
                random.extend(self.random_terms(piece))
            else:
                if sep is not None and (fixed_tokens or sep.text == "-"):
                    fixed_tokens.append(sep)
                fixed_tokens.extend(piece)
        if fixed_tokens:
            fixed_terms = self.check_expression(fixed_tokens, "fixed-effects part")
            fixed = _render(fixed_tokens)
        else:
            fixed, fixed_terms = "1", frozenset({frozenset()})
        return ParsedFormula(
            text=" ".join(self.formula.split()),
            response=_render(lhs),
            fixed=fixed,
            random=tuple(random),
            variables=tuple(self.used),
            fixed_terms=fixed_terms,
        )

    def is_random(self, piece: list[Token]) -> bool:
        if piece[0].text != "(" or piece[-1].text != ")":
            return False
        inner = piece[1:-1]
        depth = 0
        for t in inner:
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
                if depth < 0:  # "(a) + (b)" style: outer parens do not enclose everything
                    return False
            elif depth == 0 and t.text in ("|", "||"):
                return True
        return False

    def random_terms(self, piece: list[Token]) -> list[RandomTerm]:
        inner = piece[1:-1]
        bars = [(i, t) for i, t in enumerate(inner) if t.text in ("|", "||")]
        depth_ok = [i for i, t in bars if self.depth_at(inner, i) == 0]
        if len(depth_ok) != 1:
            self.fail("A random-effects term has exactly one bar: (expression | group).", piece[0].pos)
        i = depth_ok[0]
        bar = inner[i]
        expr, grouping = inner[:i], inner[i + 1 :]
        if not expr:
            self.fail("Nothing before the bar: write (1 | group) for a random intercept.", bar.pos)
        if not grouping:
            self.fail("Nothing after the bar: name the grouping column, e.g. (1 | Subject).", bar.pos)
        column_terms = self.check_expression(expr, "left side of the bar")
        factor_sets = self.grouping(grouping)
        pieces = self.split_double_bar(expr) if bar.text == "||" else [expr]
        terms = []
        for factors in factor_sets:
            for ex in pieces:
                label = f"{_display(ex)} | {':'.join(factors)}"
                terms.append(RandomTerm(expr=_render(ex), factors=factors, label=label, column_terms=column_terms))
        return terms

    @staticmethod
    def depth_at(tokens: list[Token], index: int) -> int:
        depth = 0
        for t in tokens[:index]:
            depth += t.text == "("
            depth -= t.text == ")"
        return depth

    def grouping(self, tokens: list[Token]) -> list[tuple[str, ...]]:
        """``g`` | ``g1:g2`` | ``g1/g2`` -> the grouping factors of each resulting term."""
        names: list[str] = []
        ops: list[str] = []
        for k, t in enumerate(tokens):
            want_name = k % 2 == 0
            if want_name and t.kind != "name":
                self.fail("After the bar, name the grouping column(s), joined by ':' or '/'.", t.pos)
            if not want_name and t.text not in (":", "/"):
                self.fail("Grouping columns can only be joined with ':' (interaction) or '/' (nesting).", t.pos)
            if want_name:
                if t.text not in self.column_set:
                    self.fail(f"There is no column named '{t.text}'." + suggest(t.text, self.columns), t.pos)
                if t.text not in self.used:
                    self.used.append(t.text)
                names.append(t.text)
            else:
                ops.append(t.text)
        if len(tokens) % 2 == 0:
            self.fail("The grouping ends with an operator.", tokens[-1].pos)
        if "/" in ops and ":" in ops:
            self.fail("Mixing ':' and '/' in one grouping is not supported; write the terms out.", tokens[0].pos)
        if "/" in ops:
            # a/b/c means a, a:b, a:b:c; lme4 names the inner ones innermost first ("b:a").
            return [tuple(reversed(names[: k + 1])) for k in range(len(names) - 1, -1, -1)]
        return [tuple(names)]

    def split_double_bar(self, expr: list[Token]) -> list[list[Token]]:
        """``(1 + x || g)`` -> ``(1 | g) + (0 + x | g)``, as lme4 expands it."""
        intercept = True
        pieces: list[list[Token]] = []
        for sep, piece in self.split_top(expr, ("+", "-")):
            if not piece:
                continue
            is_number = len(piece) == 1 and piece[0].kind == "number"
            if is_number and piece[0].text in ("0", "1"):
                intercept = piece[0].text == "1" and not (sep is not None and sep.text == "-")
                continue
            if sep is not None and sep.text == "-":
                self.fail("Only '- 1' can be subtracted inside a '||' term.", sep.pos)
            pieces.append(piece)
        zero = Token("number", "0", -1)
        plus = Token("op", "+", -1)
        out = [[Token("number", "1", -1)]] if intercept else []
        out += [[zero, plus, *p] for p in pieces]
        return out


def parse_formula(formula: str, columns, limit: limits.Limits | None = None) -> ParsedFormula:
    """Parse an lme4 formula against the data's column names; raises FormulaError, or
    LimitError for a formula beyond ``limit`` (the limits in force by default)."""
    if not isinstance(formula, str):
        raise FormulaError("The formula must be text, like 'y ~ x + (1 | g)'.")
    active = limits.resolve(limit)
    if len(formula) > active.formula_chars:
        limits.refuse("formula_chars", f"The formula has {len(formula):,} characters; the limit is "
                      f"{active.formula_chars:,}. Write a shorter formula.")
    return _Parser(formula, columns, active).parse()


_BARE_NAME = re.compile(r"(?:[^\W\d][\w.]*|\.[^\W\d][\w.]*)\Z")


def normalize_formula(formula: str) -> str:
    """The formula with lme4's spacing (``y ~ x + (1 | g)``), whatever spacing it was typed with:
    formulas that differ only in spaces give the same text (used for cache keys). Text that
    cannot be tokenized comes back with its runs of whitespace made single."""
    if not isinstance(formula, str):
        return str(formula)
    try:
        tokens = tokenize(formula)
    except FormulaError:
        return " ".join(formula.split())
    out = ""
    for i, t in enumerate(tokens):
        text = t.text
        if t.kind == "name" and not _BARE_NAME.match(text):
            text = f"`{text}`"
        prev = tokens[i - 1] if i else None
        tight = (prev is None or prev.text in ("(", ":", "^", "/") or text in (")", ":", "^", "/")
                 or (text == "(" and prev.kind == "name"))
        out += text if tight else " " + text
    return out
