"""The rule language's grammar: parse an expression with :mod:`ast` and check every node.

See :mod:`trialreport.validation.expressions` for the language. Nothing here runs the text: the
parsed tree is walked, refusing every construct outside the grammar (naming it) and inferring
each operand's type from the columns' types.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_LENGTH = 20_000  # characters of one expression
MAX_DEPTH = 100  # nesting of the syntax tree (a chain a | b | c nests one level a term)
MAX_NODES = 5_000
INT64 = (-(2**63), 2**63 - 1)
ANY = "any"  # a column whose type is not known: operands are not type-checked
NUMERIC = {"integer", "number"}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge}
ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
          ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitXor: "^",
          ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|"}
METHODS = ("isna", "notna", "isnull", "notnull", "isin", "between", "abs", "fillna")
STR_METHODS = ("match", "startswith", "len")
DT_PROPERTIES = ("days", "year")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REFUSED = {
    ast.Lambda: "lambda", ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension", ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression", ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string", ast.Subscript: "a subscript ([...])",
    ast.Starred: "a starred expression", ast.IfExp: "a conditional (x if c else y)",
    ast.NamedExpr: "an assignment expression (:=)", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Dict: "a dict literal",
    ast.Set: "a set literal", ast.Slice: "a slice"}


class RuleError(ValueError):
    """An expression outside the rule language, or one that does not type-check."""


@dataclass(frozen=True)
class CompiledRule:
    """A checked expression: its tree, the columns it reads and the type of its result."""

    expression: str
    tree: ast.Expression
    columns: tuple[str, ...]
    type: str


def _describe(node: ast.AST, source: str) -> str:
    text = ast.get_source_segment(source, node) or type(node).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _comparable(a: str, b: str) -> bool:
    if ANY in (a, b):
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    return a == b


class _Checker:
    """Walks a parsed expression: refuses what the language lacks and infers types."""

    def __init__(self, source: str, columns: Mapping[str, str]):
        self.source = source
        self.columns = columns
        self.used: list[str] = []
        self.count = 0

    def fail(self, node: ast.AST, reason: str) -> RuleError:
        return RuleError(f"{reason}: {_describe(node, self.source)}")

    def check(self, node: ast.AST, depth: int = 0) -> str:
        """The type of ``node``'s value (string, integer, number, date, duration, bool)."""
        self.count += 1
        if depth > MAX_DEPTH:
            raise RuleError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        if self.count > MAX_NODES:
            raise RuleError(f"the expression has more than {MAX_NODES} parts")
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            what = REFUSED.get(type(node), type(node).__name__)
            raise self.fail(node, f"{what} is not allowed in a rule")
        return handler(node, depth + 1)

    # -- leaves ---------------------------------------------------------------------------
    def _Name(self, node: ast.Name, depth: int) -> str:
        if node.id not in self.columns:
            raise RuleError(f"unknown column {node.id}")
        self.used.append(node.id)
        return self.columns[node.id]

    def _Constant(self, node: ast.Constant, depth: int) -> str:
        value = node.value
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            if not INT64[0] <= value <= INT64[1]:
                raise self.fail(node, "integer literal too large")
            return "integer"
        if isinstance(value, float):
            if not np.isfinite(value):
                raise self.fail(node, "number literal too large")
            return "number"
        if isinstance(value, str):
            return "string"
        if value is None:
            raise self.fail(node, "None is only allowed as the argument of fillna "
                                  "(use .isna() or .notna() to test for a missing value)")
        raise self.fail(node, f"a {type(value).__name__} literal is not allowed in a rule")

    # -- operators ------------------------------------------------------------------------
    def _Compare(self, node: ast.Compare, depth: int) -> str:
        types = [self.check(node.left, depth)]
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) not in COMPARE:
                raise self.fail(node, f"the comparison {type(op).__name__} is not allowed "
                                      "(use .isin([...]) for membership)")
            types.append(self.check(right, depth))
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            a, b = types[i], types[i + 1]
            if {a, b} == {"date", "string"}:
                literal = operands[i] if a == "string" else operands[i + 1]
                if not (isinstance(literal, ast.Constant) and ISO_DATE.match(literal.value)):
                    raise self.fail(node, "a date compares with a date or a literal "
                                          "'YYYY-MM-DD'")
                _date_literal(literal.value, self, literal)
                continue
            if not _comparable(a, b):
                raise self.fail(node, f"cannot compare {a} with {b}")
            if type(op) not in (ast.Eq, ast.NotEq) and "bool" in (a, b):
                raise self.fail(node, "conditions (true/false) cannot be ordered")
        return "bool"

    def _BoolOp(self, node: ast.BoolOp, depth: int) -> str:
        for value in node.values:
            self._condition(value, depth, "and/or")
        return "bool"

    def _condition(self, node: ast.AST, depth: int, op: str) -> None:
        kind = self.check(node, depth)
        if kind not in ("bool", ANY):
            raise self.fail(node, f"{op} combines conditions (true/false), not {kind} values")

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> str:
        if isinstance(node.op, ast.Not | ast.Invert):
            self._condition(node.operand, depth, "~/not")
            return "bool"
        kind = self.check(node.operand, depth)
        if kind not in NUMERIC | {"duration", ANY}:
            raise self.fail(node, f"unary minus/plus needs a number, not {kind}")
        return kind

    def _BinOp(self, node: ast.BinOp, depth: int) -> str:
        op = type(node.op)
        if op in (ast.BitAnd, ast.BitOr):
            self._condition(node.left, depth, SYMBOL[op])
            self._condition(node.right, depth, SYMBOL[op])
            return "bool"
        if op not in ARITHMETIC:
            raise self.fail(node, f"the operator {SYMBOL.get(op, op.__name__)} is not allowed "
                                  "in a rule")
        a, b = self.check(node.left, depth), self.check(node.right, depth)
        if ANY in (a, b):
            return ANY
        if a in NUMERIC and b in NUMERIC:
            return "number" if "number" in (a, b) or op is ast.Div else "integer"
        if op is ast.Sub and a == b == "date":
            return "duration"
        if op in (ast.Add, ast.Sub) and a == "date" and b == "duration":
            return "date"
        if op is ast.Add and a == "duration" and b == "date":
            return "date"
        if op in (ast.Add, ast.Sub) and a == b == "duration":
            return "duration"
        if op is ast.Add and a == b == "string":
            return "string"
        raise self.fail(node, f"cannot apply {SYMBOL[op]} to {a} and {b}")

    # -- methods and properties -------------------------------------------------------------
    def _Attribute(self, node: ast.Attribute, depth: int) -> str:
        self._plain_attribute(node)
        inner = node.value
        if isinstance(inner, ast.Attribute) and inner.attr == "dt" and node.attr in DT_PROPERTIES:
            self._plain_attribute(inner)
            kind = self.check(inner.value, depth)
            need = "duration" if node.attr == "days" else "date"
            if kind not in (need, ANY):
                raise self.fail(node, f".dt.{node.attr} needs a {need}, not {kind}")
            return "integer"
        raise self.fail(node, f"the attribute .{node.attr} is not allowed (allowed: "
                              ".dt.days, .dt.year and the methods "
                              f"{', '.join(METHODS)}, .str.{', .str.'.join(STR_METHODS)})")

    def _plain_attribute(self, node: ast.Attribute) -> None:
        if "_" in node.attr:
            raise self.fail(node, "attribute names with underscores are not allowed")

    def _Call(self, node: ast.Call, depth: int) -> str:
        func = node.func
        if not isinstance(func, ast.Attribute):
            raise self.fail(node, "function calls are not allowed (only the methods "
                                  f"{', '.join(METHODS)} and .str.{', .str.'.join(STR_METHODS)})")
        self._plain_attribute(func)
        if isinstance(func.value, ast.Attribute) and func.value.attr == "str":
            self._plain_attribute(func.value)
            return self._str_method(node, func.attr, func.value.value, depth)
        if func.attr not in METHODS:
            raise self.fail(node, f"the method .{func.attr}() is not allowed (allowed: "
                                  f"{', '.join(METHODS)}, .str.{', .str.'.join(STR_METHODS)})")
        kind = self.check(func.value, depth)
        method = func.attr
        keywords = {k.arg: k.value for k in node.keywords}
        if None in keywords:
            raise self.fail(node, "**keyword arguments are not allowed")
        if method in ("isna", "notna", "isnull", "notnull", "abs"):
            self._arity(node, 0)
            if method == "abs":
                if kind not in NUMERIC | {"duration", ANY}:
                    raise self.fail(node, f".abs() needs a number, not {kind}")
                return kind
            return "bool"
        if method == "isin":
            self._arity(node, 1)
            values = _literal(node.args[0], self, sequence=True)
            for value in values:
                if not _comparable(kind, _literal_type(value)):
                    raise self.fail(node, f".isin() of a {kind} column lists "
                                          f"{_literal_type(value)} {value!r}")
            return "bool"
        if method == "fillna":
            self._arity(node, 1)
            value = _literal(node.args[0], self, allow_none=True)
            if value is not None and not _comparable(kind, _literal_type(value)):
                raise self.fail(node, f".fillna() of a {kind} column with {value!r}")
            return kind
        # between(lo, hi, inclusive=...)
        if len(node.args) != 2 or set(keywords) - {"inclusive"}:
            raise self.fail(node, ".between() takes two bounds and optionally inclusive=")
        for bound in node.args:
            bound_kind = self.check(bound, depth)
            if not _comparable(kind, bound_kind):
                raise self.fail(node, f".between() of a {kind} value with {bound_kind} bounds")
        if "inclusive" in keywords:
            how = _literal(keywords["inclusive"], self)
            if how not in ("both", "neither", "left", "right"):
                raise self.fail(node, "inclusive= is one of 'both', 'neither', 'left', 'right'")
        return "bool"

    def _str_method(self, node: ast.Call, method: str, receiver: ast.AST, depth: int) -> str:
        if method not in STR_METHODS:
            raise self.fail(node, f"the method .str.{method}() is not allowed (allowed: "
                                  f".str.{', .str.'.join(STR_METHODS)})")
        kind = self.check(receiver, depth)
        if kind not in ("string", ANY):
            raise self.fail(node, f".str.{method}() needs text, not {kind}")
        if method == "len":
            self._arity(node, 0)
            return "integer"
        self._arity(node, 1)
        value = _literal(node.args[0], self, sequence=method == "startswith", scalar_ok=True)
        texts = value if isinstance(value, list) else [value]
        if not all(isinstance(t, str) for t in texts):
            raise self.fail(node, f".str.{method}() takes text")
        if method == "match":
            try:
                re.compile(value)
            except re.error as exc:
                raise self.fail(node, f"not a valid regular expression ({exc})") from None
        return "bool"

    def _arity(self, node: ast.Call, n: int) -> None:
        if len(node.args) != n or node.keywords:
            method = node.func.attr if isinstance(node.func, ast.Attribute) else "call"
            raise self.fail(node, f".{method}() takes {n} argument{'s' * (n != 1)}")


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _date_literal(text: str, checker: _Checker, node: ast.AST) -> pd.Timestamp:
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except (ValueError, OverflowError):
        raise checker.fail(node, "not a valid date") from None


def _literal(node: ast.AST, checker: _Checker, *, sequence: bool = False,
             scalar_ok: bool = False, allow_none: bool = False) -> Any:
    """A literal argument: a constant, a negated number, or (``sequence``) a list of them."""
    if sequence and isinstance(node, ast.List | ast.Tuple):
        if len(node.elts) > MAX_NODES:
            raise checker.fail(node, "list too long")
        return [_literal(e, checker) for e in node.elts]
    if sequence and not scalar_ok:
        raise checker.fail(node, "expected a list of literals, e.g. ['A', 'B']")
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        checker.check(node.operand)
        return -node.operand.value
    if isinstance(node, ast.Constant) and (node.value is not None or allow_none):
        if node.value is not None:
            checker.check(node)
        return node.value
    raise checker.fail(node, "expected a literal (text, number or True/False)")


def compile_rule(expression: str, columns: Mapping[str, str] | Collection[str]
                 ) -> CompiledRule:
    """Parse and check ``expression`` against ``columns`` (name -> type, or just names).

    Raises :class:`RuleError` for anything outside the rule language, an unknown column or
    (when types are given) operands of the wrong type; the message names the construct.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise RuleError("the expression is empty")
    if len(expression) > MAX_LENGTH:
        raise RuleError(f"the expression is longer than {MAX_LENGTH:,} characters")
    types = dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns, ANY)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleError(f"not a valid expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise RuleError(f"not a valid expression ({type(exc).__name__}: "
                        f"{str(exc)[:100]})") from None
    checker = _Checker(expression.strip(), types)
    result = checker.check(tree.body)
    if result not in ("bool", ANY):
        raise RuleError(f"the expression gives {result} values, not a condition (true/false)")
    return CompiledRule(expression, tree, tuple(dict.fromkeys(checker.used)), result)
