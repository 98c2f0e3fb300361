"""The subset of Quarto syntax that the builtin engine supports, and a checker for it."""

from __future__ import annotations

import re

from .qmd import INLINE_RE, CodeCell, MarkdownBlock, QmdSyntaxError, iter_prose_segments, parse_qmd

#: ``#|`` cell options the builtin engine honours (same meaning as in Quarto).
SUPPORTED_CELL_OPTIONS: frozenset[str] = frozenset(
    {
        "echo",  # show the code (default from `execute: echo:` in _quarto.yml)
        "eval",  # false: do not run the cell
        "output",  # false: hide outputs; asis: treat printed text as markdown
        "include",  # false: run but hide code and outputs
        "warning",  # false: drop stderr / warnings
        "label",  # tbl-xxx / fig-xxx cross-reference label
        "tbl-cap",
        "fig-cap",
        "fig-alt",
        "fig-width",  # inches, as in Quarto
        "fig-height",
        "classes",  # extra classes on the output div, e.g. `landscape`
    }
)

#: Shortcodes the builtin engine expands.
SUPPORTED_SHORTCODES: frozenset[str] = frozenset({"pagebreak", "meta", "var"})

#: Cross-reference prefixes that are numbered and resolved.
SUPPORTED_REF_PREFIXES: tuple[str, ...] = ("tbl", "fig", "sec")

SUPPORTED_LANGS: frozenset[str] = frozenset({"python"})

_SHORTCODE = re.compile(r"\{\{([<%])\s*([A-Za-z0-9_-]+)")
_DIV_OPEN = re.compile(r"^\s*:{3,}\s*(\{[^}]*\}|[A-Za-z][\w-]*)\s*$")
_REF = re.compile(r"(?<![\w@`])@([A-Za-z][\w:.#$%&+?<>~/-]*\w|[A-Za-z])")
_INLINE_CODE = re.compile(r"(`+).+?\1", re.S)
_QUARTO_DIV_CLASSES = ("panel-", "callout", "column-", "page-columns", "aside", "tabset")
_QUARTO_DIV_ATTRS = ("layout", "layout-ncol", "layout-nrow", "layout-valign")


def check_supported_syntax(qmd_text: str, path: str) -> list[str]:
    """Problems in ``qmd_text`` that fall outside the supported Quarto subset.

    Every problem is one line ``path:line: message``; an empty list means the builtin
    engine renders the file as Quarto would.
    """
    try:
        doc = parse_qmd(qmd_text, path)
    except QmdSyntaxError as exc:
        return [f"{path}:1: {exc}"]
    problems: list[str] = []
    labels: set[str] = set()
    for block in doc.blocks:
        if isinstance(block, CodeCell):
            problems.extend(_check_cell(block, path, labels))
        else:
            problems.extend(_check_markdown(block, path))
    return problems


def _check_cell(cell: CodeCell, path: str, labels: set[str]) -> list[str]:
    where = f"{path}:{cell.line}"
    out: list[str] = []
    if cell.lang not in SUPPORTED_LANGS:
        out.append(
            f"{where}: executable `{{{cell.lang}}}` cell: only {{python}} cells are supported"
        )
    if cell.header_rest:
        out.append(f"{where}: options inside the cell header ({cell.header_rest}): use `#|` lines")
    for key in cell.options:
        if key not in SUPPORTED_CELL_OPTIONS:
            out.append(f"{where}: unsupported cell option `#| {key}`")
    label = cell.label
    if label is not None:
        if label in labels:
            out.append(f"{where}: duplicate cell label `{label}`")
        labels.add(label)
        if "tbl-cap" in cell.options and not label.startswith("tbl-"):
            out.append(f"{where}: `tbl-cap` needs a `tbl-` label (got `{label}`)")
        if "fig-cap" in cell.options and not label.startswith("fig-"):
            out.append(f"{where}: `fig-cap` needs a `fig-` label (got `{label}`)")
    output = cell.options.get("output")
    if output not in (None, True, False, "asis"):
        out.append(f"{where}: unsupported value `output: {output}`")
    return out


def _check_markdown(block: MarkdownBlock, path: str) -> list[str]:
    out: list[str] = []
    line = block.line
    for is_code, seg in iter_prose_segments(block.text):
        if not is_code:
            for offset, text in enumerate(seg.splitlines()):
                out.extend(_check_line(text, f"{path}:{line + offset}"))
        line += seg.count("\n")
    return out


def _check_line(text: str, where: str) -> list[str]:
    out: list[str] = []
    for m in INLINE_RE.finditer(text):
        if m.group("lang") not in SUPPORTED_LANGS:
            out.append(f"{where}: inline `{{{m.group('lang')}}}` expression: only {{python}}")
    for m in _SHORTCODE.finditer(text):
        if m.group(1) == "%" or m.group(2) not in SUPPORTED_SHORTCODES:
            out.append(f"{where}: unsupported shortcode `{{{{< {m.group(2)} >}}}}`")
    div = _DIV_OPEN.match(text)
    if div:
        spec = div.group(1)
        for cls in re.findall(r"(?:^|[\s{])\.([\w-]+)", spec) or [spec]:
            if cls.startswith(_QUARTO_DIV_CLASSES):
                out.append(f"{where}: unsupported Quarto div `.{cls}`")
        for attr in re.findall(r"([\w-]+)\s*=", spec):
            if attr in _QUARTO_DIV_ATTRS:
                out.append(f"{where}: unsupported Quarto div attribute `{attr}`")
    prose = _INLINE_CODE.sub("", text)
    for m in _REF.finditer(prose):
        key = m.group(1)
        prefix = key.split("-", 1)[0].lower()
        if "-" in key and prefix in SUPPORTED_REF_PREFIXES:
            continue
        if "-" in key and len(prefix) <= 4:
            out.append(f"{where}: unsupported cross-reference `@{key}` (only @tbl-, @fig-, @sec-)")
        else:
            out.append(f"{where}: citation `@{key}` is not supported (no bibliography)")
    return out
