"""Rule expressions: a small, safe language over a record's columns, evaluated without ``eval``.

A rule's ``check:`` (and a cross rule's ``where:``) is written like a pandas expression over
column names, e.g. ``TRTSDT.isna() | (RANDDT <= TRTSDT)``. Specifications are input, so the
text is never compiled or evaluated by Python: it is parsed with :mod:`ast`, every node is checked
against the short grammar below, and the accepted tree is walked over pandas Series.

Allowed:

- column names (each must be a column of the dataset, or of the joined dataset with its suffix);
- literals: text, integers, decimals, ``True``/``False``, and lists/tuples of them (arguments
  only); ``None`` only as the argument of ``fillna``;
- comparisons ``== != < <= > >=`` (a chain ``a < b < c`` means ``(a < b) & (b < c)``);
- conditions combined with ``& | ~`` or ``and or not``;
- arithmetic ``+ - * / // %`` and unary ``-``/``+``; parentheses;
- the methods ``isna() notna() isnull() notnull() isin([...]) between(lo, hi[, inclusive=...])
  abs() fillna(literal)``, ``.str.match(regex) .str.startswith(text) .str.len()`` and the
  properties ``.dt.days`` (of a difference of dates) and ``.dt.year``.

Anything else (other calls, attributes, subscripts, ``**``, lambdas, comprehensions, f-strings,
names with underscores as attributes, ...) is refused with :class:`RuleError` naming the construct.
When the column types are known (from the specification), operands are type-checked too: ``&``
needs conditions, dates compare with dates, ``isin`` codes have the column's type, and so on.

A record fails a rule when the expression is False or cannot be decided (missing).
"""

from trialreport.validation._rule_eval import evaluate
from trialreport.validation._rule_grammar import CompiledRule, RuleError, compile_rule

__all__ = ["CompiledRule", "RuleError", "compile_rule", "evaluate"]
