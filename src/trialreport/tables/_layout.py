"""Shared CSR table look: numbered title, population subtitle, big-N headers, notes, source.

Every table module turns ARD rows into a list of :class:`Row` (display strings already
formatted by :mod:`trialreport.formatting`) and :class:`Column` specs, and hands them to
:func:`csr_table`. It first builds the format-neutral :class:`TableContent`
(:func:`table_content`: titles, headers, cells, notes, source line), from which
:func:`gt_table` builds the ``great_tables.GT`` object with the common layout (and
:mod:`trialreport.tables._rtf` the stand-alone RTF file):

* header: title ``"Table 14.2.1 <title>"``, subtitle ``"Full analysis set (N=23)"``;
* column labels ``"60 mg<br>(N=12)"`` (the line break survives pandoc's HTML reader as a
  Word line break); optional spanners;
* stub (first column) left-aligned, indented with non-breaking spaces and bold set with
  ``<strong>`` so both survive the conversion to Word and typst; numbers centred;
* footnotes from the study definition, then ``"Source: ADSL, ADEFF; program ...; data cut ..."``
  as source notes (``<tfoot>``), in that order;
* compact 9 pt, no vertical lines, rules above and below the column labels and under the body;
* a fixed table id derived from the table number, so the HTML is byte-identical across builds.

Every data value is HTML-escaped: body cells are plain strings (great_tables escapes them) and
the stub column is escaped here by :func:`stub_html` before it is marked as trusted HTML.
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pandas as pd
from great_tables import GT, html, loc, style

from trialreport import formatting as F
from trialreport.outputs import OutputContext
from trialreport.study import OutputSpec, Study
from trialreport.tables._content import (
    INDENT,
    PAGE_CHARS,
    Column,
    FigureContent,
    Row,
    Spanner,
    TableContent,
    fit_widths,
)

__all__ = [
    "Column",
    "Lookup",
    "Row",
    "Spanner",
    "arm_groups",
    "big_n",
    "column_label",
    "count_text",
    "n_over_n_text",
    "n_pct_text",
    "pvalue_text",
    "capture_contents",
    "csr_table",
    "data_cut",
    "figure_content",
    "gt_table",
    "group_columns",
    "population_line",
    "results_frame",
    "source_datasets",
    "source_line",
    "stub_html",
    "table_content",
    "table_id",
]

#: Stub column id in the display frame.
STUB = "_stub"
#: Row-group column id in the display frame.
GROUP = "_group"
#: Cells longer than this wrap (listings' free text) instead of widening their column.
_MAX_CELL_CHARS = 28
#: Group code of between-arm statistics in the ARD.
COMPARISON = "comparison"


# --------------------------------------------------------------------------------------
# ARD access
# --------------------------------------------------------------------------------------


def results_frame(ard: Any) -> pd.DataFrame:
    """The contract table of an ``ARD`` object, or ``ard`` itself when it is a DataFrame."""
    if isinstance(ard, pd.DataFrame):
        return ard
    frame = getattr(ard, "frame", None)
    if isinstance(frame, pd.DataFrame):
        return frame
    raise TypeError(f"expected an ARD or an ARD DataFrame, got {type(ard).__name__}")


class Lookup:
    """Fast ``(group, variable, category, statistic) -> value`` access to one analysis."""

    def __init__(self, ard: Any, analysis: str, population: str | None = None):
        frame = results_frame(ard)
        sub = frame[frame["analysis"] == analysis]
        if population is not None:  # never fall back to another population's numbers
            sub = sub[sub["population"] == population]
        self.frame = sub.reset_index(drop=True)
        self._values: dict[tuple[str, str, str, str], float] = {}
        self._methods: dict[tuple[str, str, str, str], str] = {}
        for g, v, c, s, val, m in zip(sub["group"], sub["variable"], sub["category"],
                                      sub["statistic"], sub["value"], sub["method"], strict=True):
            key = (str(g), str(v), str(c), str(s))
            self._values[key] = float(val)
            self._methods[key] = str(m)

    def __bool__(self) -> bool:
        return bool(self._values)

    def get(self, group: str, variable: str, statistic: str, category: str = "") -> float:
        """The value, or NaN when the ARD has no such row."""
        return self._values.get((group, variable, category, statistic), math.nan)

    def has(self, group: str, variable: str, statistic: str, category: str = "") -> bool:
        """Whether the ARD holds this key."""
        return (group, variable, category, statistic) in self._values

    def method(self, group: str, variable: str, statistic: str, category: str = "") -> str:
        """The method name stored with the key ("" when none)."""
        return self._methods.get((group, variable, category, statistic), "")

    def variables(self) -> list[str]:
        """Variables in ARD (deterministic) order."""
        return list(dict.fromkeys(self.frame["variable"].astype(str)))

    def categories(self, variable: str) -> list[str]:
        """Categories of one variable in ARD order (without "")."""
        sub = self.frame[self.frame["variable"] == variable]
        return [c for c in dict.fromkeys(sub["category"].astype(str)) if c != ""]


def big_n(ard: Any, analysis: str) -> dict[str, int]:
    """Subjects analysed per group (arm codes and the total label) in output ``analysis``:
    its ARD rows ``variable=""``, ``statistic="N"`` (the column headers' N)."""
    frame = results_frame(ard)
    sub = frame[(frame["analysis"] == analysis) & (frame["variable"] == "")
                & (frame["statistic"] == "N")]
    return {str(g): int(v) for g, v in zip(sub["group"], sub["value"], strict=True)
            if not pd.isna(v)}


def arm_groups(study: Study, with_total: bool = True) -> list[tuple[str, str]]:
    """``(ARD group code, display label)`` of each arm in display order, then the total."""
    groups = [(a.code, a.display) for a in study.arms]
    if with_total and study.has_total:
        groups.append((study.total_label, study.total_label))
    return groups


def group_columns(study: Study, ns: Mapping[str, int],
                  with_total: bool = True) -> list[tuple[str, Column]]:
    """``(ARD group code, Column)`` per arm and the total, with big N; ids ``g1``, ``g2``, ..."""
    return [(code, Column(f"g{i}", label, ns.get(code)))
            for i, (code, label) in enumerate(arm_groups(study, with_total), start=1)]


def data_cut(study: Study) -> str:
    """The data cut-off date of the study definition ("" if not given)."""
    cut = study.info.data_cut
    return cut.isoformat() if cut is not None else ""


# --------------------------------------------------------------------------------------
# cell text: thin wrappers over trialreport.formatting (the only rounding in the project)
# --------------------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def count_text(x: float) -> str:
    """A count (``""`` when missing)."""
    return "" if _missing(x) else F.fmt_number(int(x), 0)


def n_pct_text(n: float, big: float) -> str:
    """``"16 (70%)"`` from the count and its denominator (``"0"`` for a zero count)."""
    if _missing(n):
        return ""
    if _missing(big):
        return count_text(n)
    return F.fmt_n_pct(int(n), int(big))


def n_over_n_text(n: float, big: float) -> str:
    """``"16/23 (70%)"`` (``""`` when missing)."""
    if _missing(n) or _missing(big):
        return ""
    return F.fmt_n_over_N_pct(int(n), int(big))


def pvalue_text(p: float) -> str:
    """``"0.193"`` / ``"<0.001"``; ``""`` when there is no test."""
    return "" if _missing(p) else F.fmt_pvalue(p)


# --------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------


def column_label(label: str, n: int | None = None, *, break_line: bool = True) -> Any:
    """``"60 mg<br>(N=12)"`` as great_tables ``html()``; the label is escaped and a ``\n`` in
    it becomes a line break (which pandoc keeps as a Word line break)."""
    if n is None and "\n" not in label:
        return label
    text = "<br>".join(_html.escape(part, quote=False) for part in label.split("\n"))
    if n is not None:
        text += f"{'<br>' if break_line else ' '}(N={n})"
    return html(text)


def stub_html(row: Row) -> str:
    """The escaped stub cell of ``row``, with indentation and ``<strong>`` when bold."""
    text = INDENT * row.level + _html.escape(row.label)
    return f"<strong>{text}</strong>" if row.bold else text


def table_id(spec: OutputSpec) -> str:
    """Fixed HTML id of a numbered output (``trialreport-table-14-2-1``)."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in spec.id)
    return f"trialreport-{spec.kind}-{slug}"


def population_line(study: Study, population: str | None, n: int | None,
                    subset: str | None = None) -> str:
    """``"Full analysis set (N=23)"``, or ``"Full analysis set: responders at month 6 (N=16)"``
    for a sub-population."""
    if population is None:
        return ""
    pop = study.populations.get(population)
    label = pop.label if pop is not None else population
    if subset:
        label = f"{label}: {subset}"
    return label if n is None else f"{label} (N={n})"


def source_datasets(ctx: OutputContext) -> list[str]:
    """Datasets an output is computed from (upper-case names), for its source line."""
    from trialreport.outputs import output_type

    if ctx.spec.entry.source_datasets is not None:
        return list(ctx.spec.entry.source_datasets)
    otype = output_type(ctx.spec.type)
    roles = otype.datasets(ctx.study, ctx.spec) if otype.datasets else []
    return [ctx.study.dataset_stem(r).upper() for r in dict.fromkeys(roles)]


def source_line(ctx: OutputContext, program: str) -> str:
    """``"Source: ADSL, ADEFF; program trialreport.families.binary; data cut 2019-06-30."``"""
    parts = []
    datasets = source_datasets(ctx)
    if datasets:
        parts.append("Source: " + ", ".join(datasets))
    parts.append(f"program {program}" if parts else f"Program: {program}")
    cut = data_cut(ctx.study)
    if cut:
        parts.append(f"data cut {cut}")
    return "; ".join(parts) + "."


def _trusted(x: Any) -> str:
    """Identity formatter: the stub column is escaped by :func:`stub_html` beforehand."""
    return str(x)


def _chars(text: str) -> int:
    """Approximate width of ``text`` in average characters (capitals are wider)."""
    return math.ceil(len(text) + 0.3 * sum(ch.isupper() for ch in text))


def _longest_word(texts: Iterable[str]) -> int:
    return max((_chars(w) for t in texts for w in re.split(r"[\s/]+", t) if w), default=0)


def _width_needs(rows: Sequence[Row], columns: Sequence[Column], stub_max: int,
                 stub_label: str = "", left: Sequence[str] = ()
                 ) -> tuple[dict[str, int], dict[str, int]]:
    """What each column (stub first) wants and the narrowest it may be, in characters.

    Each column wants its longest cell or header line (the stub at most ``stub_max``
    characters, free text at most ``_MAX_CELL_CHARS``); the stub and left-aligned text may
    give way down to their longest word, centred numeric cells never wrap, headers may always
    wrap. :func:`~trialreport.tables._content.fit_widths` fits them to a page.
    """
    want: dict[str, int] = {}
    floor: dict[str, int] = {}
    labels = [INDENT * r.level + r.label for r in rows]
    stub = max((_chars(t) for t in labels), default=10)
    want[STUB] = max(min(stub, stub_max), _chars(stub_label), 8) + 2
    floor[STUB] = max(_longest_word([*labels, stub_label]), 6) + 2
    for col in columns:
        head = col.label.split("\n") + ([f"(N={col.n})"] if col.n is not None else [])
        texts = [str(r.cells.get(col.id, "")) for r in rows]
        longest = min(max((_chars(t) for t in texts), default=0), _MAX_CELL_CHARS)
        want[col.id] = max(longest, *(_chars(h) for h in head), col.min_chars, 5) + 3
        cells = _longest_word(texts) if col.id in left else longest
        floor[col.id] = max(cells, _longest_word(head), 5) + 3  # headers may always wrap
    return want, floor


#: Contents built by :func:`csr_table` while :func:`capture_contents` is active.
_CAPTURED: ContextVar[list[TableContent] | None] = ContextVar("trialreport_table_contents",
                                                               default=None)


@contextmanager
def capture_contents() -> Iterator[list[TableContent]]:
    """Collect the :class:`TableContent` of every table :func:`csr_table` builds inside the
    ``with`` block (a family's builder returns only the GT)."""
    captured: list[TableContent] = []
    token = _CAPTURED.set(captured)
    try:
        yield captured
    finally:
        _CAPTURED.reset(token)


def _population_n(ctx: OutputContext) -> int | None:
    """The output's analysed total N in the ARD (the sum of the arms when there is no total
    column; ``None`` without an ARD or N rows)."""
    if ctx.ard is None:
        return None
    ns = big_n(ctx.ard, ctx.spec.name)
    total = ns.get(ctx.study.total_label)
    if total is None:
        total = sum(ns.values()) if ns else None
    return total


def table_content(
    rows: Iterable[Row],
    columns: Sequence[Column],
    ctx: OutputContext,
    *,
    program: str,
    spanners: Sequence[Spanner] = (),
    stub_label: str = "",
    stub_max: int = 36,
    population_n: int | None = None,
    subset: str | None = None,
    left_columns: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> TableContent:
    """The format-neutral content of output ``ctx.spec`` (arguments as :func:`csr_table`)."""
    from trialreport.glossary import abbreviation_note

    spec, study = ctx.spec, ctx.study
    rows = list(rows)
    if population_n is None:
        population_n = _population_n(ctx)
    subtitle = population_line(study, spec.population, population_n, subset)
    footnotes = [*spec.footnotes, *notes]
    texts = [spec.title, subtitle, stub_label, *footnotes,
             *(c.label for c in columns), *(sp.label for sp in spanners),
             *(r.label for r in rows), *(str(v) for r in rows for v in r.cells.values())]
    glossary_note = abbreviation_note(texts, study)
    wants, floors = _width_needs(rows, columns, stub_max, stub_label, left_columns)
    shown = tuple(Row(r.label, {c.id: str(r.cells.get(c.id, "")) for c in columns},
                      level=r.level, bold=r.bold, group=r.group) for r in rows)
    return TableContent(
        table_id=table_id(spec), label=spec.label, title=spec.title, population=subtitle,
        numbered_title=ctx.title, stub_id=STUB, stub_label=stub_label,
        columns=tuple(columns),
        spanners=tuple(Spanner(sp.id, sp.label, tuple(sp.columns), sp.n) for sp in spanners),
        rows=shown, left_columns=tuple(left_columns),
        footnotes=(*footnotes, *([glossary_note] if glossary_note else [])),
        source=source_line(ctx, program), source_datasets=tuple(source_datasets(ctx)),
        widths=fit_widths(wants, floors, PAGE_CHARS), width_wants=wants,
        width_floors=floors)


def gt_table(content: TableContent) -> GT:
    """The ``great_tables.GT`` of ``content`` with the shared CSR layout."""
    rows, columns = content.rows, content.columns
    data: dict[str, list[str]] = {STUB: [stub_html(r) for r in rows]}
    for col in columns:
        data[col.id] = [content.cell(r, col.id) for r in rows]
    names = [STUB] + [c.id for c in columns]
    grouped = content.grouped
    if grouped:
        data[GROUP] = [r.group or "" for r in rows]
        names.append(GROUP)
    frame = pd.DataFrame(data, columns=names)

    gt = GT(frame, rowname_col=STUB, groupname_col=GROUP if grouped else None,
            id=content.table_id, auto_align=False)
    gt = gt.fmt(_trusted, columns=STUB)
    subtitle = content.population
    if content.numbered_title or not subtitle:
        gt = gt.tab_header(title=content.caption, subtitle=subtitle or None)
        gt = gt.tab_style(style.text(weight="bold"), loc.title())
    else:  # the book's caption carries the numbered title; keep the population line
        gt = gt.tab_header(title=subtitle)
    heads = [i for i in range(1, len(rows) - 1)
             if rows[i].level == 0 and rows[i + 1].level > 0]
    if heads:  # a little air above each section head (HTML only; Word keeps its own spacing)
        gt = gt.tab_style(style.css("padding-top: 5px;"), loc.body(rows=heads))
        gt = gt.tab_style(style.css("padding-top: 5px;"), loc.stub(rows=heads))
    if content.stub_label:
        gt = gt.tab_stubhead(label=content.stub_label)
    gt = gt.cols_label(cases={c.id: column_label(c.label, c.n) for c in columns})
    for sp in content.spanners:
        gt = gt.tab_spanner(label=column_label(sp.label, sp.n, break_line=False),
                            columns=list(sp.columns), id=sp.id)
    left = content.left_columns
    centred = [c.id for c in columns if c.id not in set(left)]
    if centred:
        gt = gt.cols_align(align="center", columns=centred)
    gt = gt.cols_align(align="left", columns=[STUB, *left])
    gt = gt.cols_width(cases={key: f"{w:.1f}%" for key, w in content.widths.items()})
    for note in content.footnotes:
        gt = gt.tab_source_note(note)
    gt = gt.tab_source_note(content.source)
    return _style(gt, content.table_id)


def csr_table(
    rows: Iterable[Row],
    columns: Sequence[Column],
    ctx: OutputContext,
    *,
    program: str,
    spanners: Sequence[Spanner] = (),
    stub_label: str = "",
    stub_max: int = 36,
    population_n: int | None = None,
    subset: str | None = None,
    left_columns: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> GT:
    """Build the GT of output ``ctx.spec`` with the shared CSR layout.

    Footnotes: the output's own (study definition), then ``notes`` (the methods the family
    used), then the abbreviations every text of the table uses (from the glossary), then the
    source line. ``population_n`` defaults to the output's analysed total N in the ARD.
    ``left_columns`` are value columns aligned left (text in listings) instead of centred.
    The :class:`TableContent` it is drawn from is collected by :func:`capture_contents`.
    """
    content = table_content(rows, columns, ctx, program=program, spanners=spanners,
                            stub_label=stub_label, stub_max=stub_max,
                            population_n=population_n, subset=subset,
                            left_columns=left_columns, notes=notes)
    captured = _CAPTURED.get()
    if captured is not None:
        captured.append(content)
    return gt_table(content)


def _whole_population_n(ctx: OutputContext) -> int | None:
    """The N of the output's whole population (ARD ``analysis="population"`` rows)."""
    from trialreport.ard import POPULATION

    frame = results_frame(ctx.ard)
    sub = frame[(frame["analysis"] == POPULATION) & (frame["population"] == ctx.spec.population)
                & (frame["variable"] == "N") & (frame["statistic"] == "n")]
    ns = {str(g): int(v) for g, v in zip(sub["group"], sub["value"], strict=True)}
    total = ns.get(ctx.study.total_label)
    if total is None:
        total = sum(ns.values()) if ns else None
    return total


def figure_content(ctx: OutputContext) -> FigureContent:
    """The numbered title, population line, the output's footnotes with the abbreviations
    note, and the source line of figure ``ctx.spec`` (program: its registered builder).

    The population line's N is the figure's analysed total in the ARD; a figure without ARD
    rows of its own (drawn from the records, e.g. a swimmer plot) shows its whole population,
    whose N the ARD's population rows hold. A part of the population is named by the output
    type's ``subset`` ("Full analysis set: responders at month 6 (N=16)").
    """
    from trialreport.glossary import abbreviation_note
    from trialreport.outputs import output_type

    spec, study = ctx.spec, ctx.study
    otype = output_type(spec.type)
    n = _population_n(ctx)
    if n is None and otype.compute is None and ctx.ard is not None and spec.population:
        n = _whole_population_n(ctx)
    subset = otype.subset(study, spec) if otype.subset is not None else None
    population = population_line(study, spec.population, n, subset)
    note = abbreviation_note([spec.title, population, *spec.footnotes], study)
    return FigureContent(label=spec.label, title=spec.title, population=population,
                         footnotes=(*spec.footnotes, *([note] if note else [])),
                         source=source_line(ctx, otype.build.__module__),
                         source_datasets=tuple(source_datasets(ctx)))


def _style(gt: GT, tid: str) -> GT:
    """Compact CSR look: 9 pt, black rules above/below the column labels and the body only."""
    rule, thin = "#000000", "1px"
    return gt.tab_options(
        table_font_names=["Arial", "Helvetica", "Liberation Sans", "sans-serif"],
        table_font_size="9pt",
        table_font_color="#000000",
        table_width="100%",
        table_margin_left="0px",
        table_border_top_style="none",
        table_border_bottom_style="none",
        heading_align="left",
        heading_title_font_size="10pt",
        heading_title_font_weight="bold",
        heading_subtitle_font_size="9pt",
        heading_padding="2px",
        heading_border_bottom_style="solid",
        heading_border_bottom_width=thin,
        heading_border_bottom_color=rule,
        column_labels_font_weight="bold",
        column_labels_padding="3px",
        column_labels_vlines_style="none",
        column_labels_border_top_style="solid",
        column_labels_border_top_width=thin,
        column_labels_border_top_color=rule,
        column_labels_border_bottom_style="solid",
        column_labels_border_bottom_width=thin,
        column_labels_border_bottom_color=rule,
        table_body_hlines_style="none",
        table_body_vlines_style="none",
        table_body_border_top_style="solid",
        table_body_border_top_width=thin,
        table_body_border_top_color=rule,
        table_body_border_bottom_style="solid",
        table_body_border_bottom_width=thin,
        table_body_border_bottom_color=rule,
        stub_border_style="none",
        row_group_border_top_style="none",
        row_group_border_bottom_style="none",
        row_group_font_weight="bold",
        row_group_padding="3px",
        data_row_padding="1px",
        source_notes_font_size="8pt",
        source_notes_padding="1px",
        source_notes_multiline=True,
        table_additional_css=[f"#{tid} .gt_row {{ vertical-align: top; }}"],
    )
