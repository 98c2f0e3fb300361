"""The rule language's evaluator: walk a checked tree over whole pandas columns.

Only trees accepted by :func:`~trialreport.validation._rule_grammar.compile_rule` reach it, so
every node is one of the grammar's; Python's ``eval``/``exec``/``compile`` are never used.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialreport.validation._rule_grammar import ARITHMETIC, COMPARE, CompiledRule, compile_rule


def _is_series(x: Any) -> bool:
    return isinstance(x, pd.Series)


def _not(x: Any) -> Any:
    return ~_as_bool(x) if _is_series(x) else (not x)


def _as_bool(x: Any) -> Any:
    if _is_series(x) and x.dtype != "boolean":
        return x.astype("boolean")
    return x


def _and(a: Any, b: Any) -> Any:
    if not (_is_series(a) or _is_series(b)):
        return bool(a) and bool(b)
    return _as_bool(a) & _as_bool(b)


def _or(a: Any, b: Any) -> Any:
    if not (_is_series(a) or _is_series(b)):
        return bool(a) or bool(b)
    return _as_bool(a) | _as_bool(b)


class _Evaluator:
    """Walks a checked tree over the columns of ``frame``.

    ``codes`` (optional) gives text columns as (per-record code, -1 when missing; distinct
    texts): ``X == 'text'``, ``X != 'text'`` and ``X.isin([...])`` then compare integer codes
    instead of every record's string, with the same result.
    """

    def __init__(self, frame: pd.DataFrame, codes: Mapping[str, tuple] | None = None):
        self.frame = frame
        self.codes = codes or {}

    def value(self, node: ast.AST) -> Any:
        return getattr(self, f"_{type(node).__name__}")(node)

    def _coded(self, node: ast.AST) -> tuple[np.ndarray, np.ndarray] | None:
        if isinstance(node, ast.Name) and node.id in self.codes:
            return self.codes[node.id]
        return None

    def _compare_text(self, op: ast.cmpop, left: ast.AST, right: ast.AST) -> Any:
        """``column == 'text'`` (either order, or ``!=``) on codes, else None."""
        if not isinstance(op, ast.Eq | ast.NotEq):
            return None
        for column, literal in ((left, right), (right, left)):
            coded = self._coded(column)
            if coded is not None and isinstance(literal, ast.Constant) \
                    and isinstance(literal.value, str):
                codes, texts = coded
                hit = np.flatnonzero(texts == literal.value)
                equal = codes == hit[0] if len(hit) else np.zeros(len(codes), dtype=bool)
                result = equal if isinstance(op, ast.Eq) else ~equal
                return pd.Series(result, index=self.frame.index)
        return None

    def _Name(self, node: ast.Name) -> Any:
        return self.frame[node.id]

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _List(self, node: ast.List) -> list:
        return [self.value(e) for e in node.elts]

    _Tuple = _List

    def _Compare(self, node: ast.Compare) -> Any:
        if len(node.ops) == 1:
            fast = self._compare_text(node.ops[0], node.left, node.comparators[0])
            if fast is not None:
                return fast
        operands = [self.value(node.left), *(self.value(c) for c in node.comparators)]
        result: Any = True
        for i, op in enumerate(node.ops):
            a, b = _date_operand(operands[i], operands[i + 1]), \
                _date_operand(operands[i + 1], operands[i])
            result = _and(result, COMPARE[type(op)](a, b))
        return result

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        combine = _and if isinstance(node.op, ast.And) else _or
        result = self.value(node.values[0])
        for value in node.values[1:]:
            result = combine(result, self.value(value))
        return result

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.value(node.operand)
        if isinstance(node.op, ast.Not | ast.Invert):
            return _not(value)
        return -value if isinstance(node.op, ast.USub) else +value

    def _BinOp(self, node: ast.BinOp) -> Any:
        a, b = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.BitAnd):
            return _and(a, b)
        if isinstance(node.op, ast.BitOr):
            return _or(a, b)
        return ARITHMETIC[type(node.op)](a, b)

    def _Attribute(self, node: ast.Attribute) -> Any:
        series = self.value(node.value.value)  # X.dt.days / X.dt.year
        if node.attr == "days":
            return series.dt.days.astype("Int64")
        return series.dt.year.astype("Int64")

    def _Call(self, node: ast.Call) -> Any:
        func = node.func
        assert isinstance(func, ast.Attribute)
        args = [self.value(a) for a in node.args]
        kwargs = {k.arg: self.value(k.value) for k in node.keywords}
        if isinstance(func.value, ast.Attribute) and func.value.attr == "str":
            series = self.value(func.value.value)
            text = series.astype(object).where(series.notna(), None)
            if func.attr == "len":
                return text.str.len().astype("Int64")
            if func.attr == "startswith":
                prefix = tuple(args[0]) if isinstance(args[0], list) else args[0]
                return text.str.startswith(prefix, na=False)
            return text.str.match(args[0], na=False)
        coded = self._coded(func.value)
        if func.attr == "isin" and coded is not None:
            codes, texts = coded
            inside = np.append(np.isin(texts, np.asarray(args[0], dtype=object)), False)
            return pd.Series(inside[codes], index=self.frame.index)
        receiver = self.value(func.value)
        if not _is_series(receiver):
            return _scalar_method(func.attr, receiver, args)
        return getattr(receiver, func.attr)(*args, **kwargs)


def _date_operand(value: Any, other: Any) -> Any:
    """A literal 'YYYY-MM-DD' compared with a date column becomes a timestamp."""
    if isinstance(value, str) and _is_series(other) \
            and pd.api.types.is_datetime64_any_dtype(other):
        return pd.Timestamp(value)
    return value


def _scalar_method(method: str, value: Any, args: list) -> Any:
    """A method applied to a literal (rare, e.g. ``(-3).abs()``), with pandas' meaning."""
    if method in ("isna", "isnull"):
        return pd.isna(value)
    if method in ("notna", "notnull"):
        return not pd.isna(value)
    if method == "abs":
        return abs(value)
    if method == "isin":
        return value in args[0]
    if method == "fillna":
        return args[0] if pd.isna(value) else value
    return args[0] <= value <= args[1]


def evaluate(rule: CompiledRule | str, frame: pd.DataFrame,
             codes: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.Series:
    """Boolean Series: True where the rule holds for the record (missing counts as False).

    ``rule`` is a :class:`CompiledRule` or an expression, which is then checked against the
    frame's columns first (raising :class:`RuleError`). ``codes`` optionally gives text
    columns of ``frame`` as category codes (see :class:`_Evaluator`), for speed only.
    """
    if isinstance(rule, str):
        rule = compile_rule(rule, [str(c) for c in frame.columns])
    with np.errstate(all="ignore"):
        result = _Evaluator(frame, codes).value(rule.tree.body)
    if not _is_series(result):
        result = pd.Series(bool(result), index=frame.index)
    return result.astype("boolean").fillna(False).astype(bool)
