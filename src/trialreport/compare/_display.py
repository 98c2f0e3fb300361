"""How a compared value is shown: full precision, and the report's rounding where it helps."""

from __future__ import annotations

import math

from trialreport.compare._model import ResultChange, ResultKey, Token

#: Statistics that are counts: shown as whole numbers (no separate display).
COUNT_STATISTICS = frozenset({"n", "N", "nmiss", "subjects", "events", "censored", "at_risk"})
KEY_HEADERS = ("population", "group", "variable", "category", "statistic")
ABSENT = "(absent)"
NOT_ESTIMABLE = "NaN (not estimable)"


def plain(text: object) -> str:
    """Text from an input as one printable line: line breaks and tabs become spaces, other
    control characters U+FFFD (a terminal, XML and Word cannot show them)."""
    out = []
    for char in str(text):
        if char in "\r\n\t\v\f\u2028\u2029\x85":
            out.append(" ")
        elif not char.isprintable() and char != " ":
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def full(value: float | None) -> str:
    """The value at full precision (shortest exact repr), or why there is none."""
    if value is None:
        return ABSENT
    if math.isnan(value):
        return NOT_ESTIMABLE
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def shown(statistic: str, value: float | None) -> str:
    """The value as the report's rounding rule shows it, or "" when that adds nothing
    (counts, absent or not-estimable values): percentages whole (one decimal strictly between
    0 and 1 or 99 and 100), p-values with three decimals ("<0.001"), anything else not whole
    with three decimals, all rounded half away from zero (:mod:`trialreport.formatting`)."""
    from trialreport.formatting import fmt_number, fmt_pvalue

    statistic = statistic.partition("@")[0]  # "pct@SEVERE": a statistic per level
    if value is None or math.isnan(value) or math.isinf(value):
        return ""
    if statistic in COUNT_STATISTICS or value.is_integer():
        return ""
    if statistic == "pct":
        decimals = 1 if (0 < value < 1 or 99 < value < 100) else 0
        return fmt_number(value, decimals) + "%"
    if statistic == "pvalue":
        return "p " + ("" if fmt_pvalue(value).startswith("<") else "= ") + fmt_pvalue(value)
    return fmt_number(value, 3)


def value_text(statistic: str, value: float | None) -> str:
    """"69.56521739130435 (shown 70%)"."""
    display = shown(statistic, value)
    return f"{full(value)} (shown {display})" if display else full(value)


def key_cells(key: ResultKey) -> list[str]:
    """The key columns of a result as printable text ("" shown as "-")."""
    return [plain(getattr(key, name)) or "-" for name in KEY_HEADERS]


def method_text(change: ResultChange) -> str:
    """"method: A -> B" when the method name changed, else ""."""
    if change.method_changed:
        return f"method: {plain(change.old_method)} -> {plain(change.new_method)}"
    return ""


def marked(tokens: tuple[Token, ...], opener: str, closer: str) -> str:
    """The sentence with each run of changed words wrapped in ``opener``/``closer``."""
    out: list[str] = []
    run: list[str] = []
    for token in tokens:
        if token.changed:
            run.append(plain(token.text))
            continue
        if run:
            out.append(opener + " ".join(run) + closer)
            run = []
        out.append(plain(token.text))
    if run:
        out.append(opener + " ".join(run) + closer)
    return " ".join(out)


def runs(tokens: tuple[Token, ...]) -> list[tuple[str, bool]]:
    """The sentence as ``(text, changed)`` runs, spaces included, for HTML and Word."""
    out: list[tuple[str, bool]] = []
    for i, token in enumerate(tokens):
        text = ("" if i == 0 else " ") + plain(token.text)
        if out and out[-1][1] == token.changed:
            out[-1] = (out[-1][0] + text, token.changed)
        elif token.changed and text.startswith(" "):  # keep the space outside the mark
            if out:
                out[-1] = (out[-1][0] + " ", out[-1][1])
            else:
                out.append((" ", False))
            out.append((text[1:], True))
        else:
            out.append((text, token.changed))
    return out

