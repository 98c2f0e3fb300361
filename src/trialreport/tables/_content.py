"""What a numbered output shows, independent of its file format.

A family module turns ARD rows into :class:`Row` and :class:`Column` specs;
:func:`trialreport.tables._layout.table_content` adds the numbered title, population line,
footnotes and source line and returns one :class:`TableContent`. Both the book's table
(great_tables, :func:`trialreport.tables._layout.gt_table`) and the stand-alone RTF file
(:mod:`trialreport.tables._rtf`) are drawn from that object, so they cannot show different
numbers: every cell is a display string formatted once by :mod:`trialreport.formatting`.
A figure's surrounding text (title, population, notes, source) is a :class:`FigureContent`.

Text here is plain (unescaped); each writer escapes it for its own format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Column", "FigureContent", "Row", "Spanner", "TableContent", "fit_widths",
           "min_table_chars", "needs_landscape"]

#: One indentation level (non-breaking spaces survive HTML, pandoc/docx and typst).
INDENT = "\u00a0" * 4
#: Characters (9 pt) across a portrait A4 page: wider tables let their text columns wrap.
PAGE_CHARS = 100
#: A 9 pt line across the portrait text width, in characters: the book's rule for putting a
#: table on a landscape page (``PORTRAIT_CHARS`` in resources/render/trialreport.lua).
PORTRAIT_CHARS = 95


@dataclass(frozen=True)
class Row:
    """One display row: stub label, formatted cell strings by column id, indent and weight;
    ``group`` puts the row under a full-width row-group heading (listings by arm)."""

    label: str
    cells: Mapping[str, str] = field(default_factory=dict)
    level: int = 0
    bold: bool = False
    group: str | None = None


@dataclass(frozen=True)
class Column:
    """A value column: id, plain-text label (``\n`` = line break), optional big N under the
    label, and optional minimum width in characters."""

    id: str
    label: str
    n: int | None = None
    min_chars: int = 0


@dataclass(frozen=True)
class Spanner:
    """A label spanning ``columns`` (e.g. an arm with its n (%) and E columns)."""

    id: str
    label: str
    columns: Sequence[str]
    n: int | None = None


@dataclass(frozen=True)
class TableContent:
    """A numbered table or listing as displayed: titles, headers, body cells and notes.

    ``rows`` hold every value column's cell as a string (``""`` when empty);
    ``widths`` are the columns' shares of the book's table width in percent (stub first, key
    ``stub_id``), fitted by :func:`fit_widths` from ``width_wants`` and ``width_floors``
    (characters: what each column wants, the narrowest it may be); ``footnotes`` are the
    output's own notes, the methods notes and the abbreviations note, in that order;
    ``source`` is the source line, naming ``source_datasets``.
    """

    table_id: str
    label: str
    title: str
    population: str
    numbered_title: bool
    stub_id: str
    stub_label: str
    columns: tuple[Column, ...]
    spanners: tuple[Spanner, ...]
    rows: tuple[Row, ...]
    left_columns: tuple[str, ...]
    footnotes: tuple[str, ...]
    source: str
    source_datasets: tuple[str, ...]
    widths: Mapping[str, float]
    width_wants: Mapping[str, int]
    width_floors: Mapping[str, int]

    @property
    def caption(self) -> str:
        """``"Table 14.2.1 <title>"``."""
        return f"{self.label} {self.title}"

    @property
    def grouped(self) -> bool:
        """Whether rows sit under row-group headings."""
        return any(r.group is not None for r in self.rows)

    def cell(self, row: Row, column: str) -> str:
        """The display text of ``row`` in value column ``column``."""
        return row.cells.get(column, "")

    def stub_text(self, row: Row) -> str:
        """The stub cell as the book shows it: indentation as non-breaking spaces."""
        return INDENT * row.level + row.label


@dataclass(frozen=True)
class FigureContent:
    """The text around a numbered figure: numbered title, population line, notes, source."""

    label: str
    title: str
    population: str
    footnotes: tuple[str, ...]
    source: str
    source_datasets: tuple[str, ...]

    @property
    def caption(self) -> str:
        """``"Figure 14.2.1 <title>"``."""
        return f"{self.label} {self.title}"


def fit_widths(want: Mapping[str, float], floor: Mapping[str, float], page_chars: float
               ) -> dict[str, float]:
    """Column widths in percent of the table from what each column wants and the narrowest
    it may be (characters): when the wants exceed ``page_chars``, the widest columns give way
    (a common cap), never below their floor."""
    if sum(want.values()) > page_chars:
        lo, hi = 0.0, max(want.values())
        for _ in range(40):  # the cap at which the capped wants fill the page
            cap = (lo + hi) / 2
            fits = sum(max(floor[k], min(w, cap)) for k, w in want.items()) <= page_chars
            lo, hi = (cap, hi) if fits else (lo, cap)
        want = {k: max(floor[k], min(w, lo)) for k, w in want.items()}
    total = sum(want.values())
    return {key: 100.0 * w / total for key, w in want.items()}


_ASCII_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def min_table_chars(content: TableContent) -> int:
    """Width below which the table would break words, in characters: per column its longest
    word (header and body; multi-column spanners and row-group headings excluded) plus 2.

    The same measure as the book's Lua filter (``min_table_chars``), which splits on ASCII
    white space only, so a row label's non-breaking indentation counts with its first word.
    """
    def longest(texts: Sequence[str]) -> int:
        return max((len(w) for t in texts for w in _ASCII_SPACE.split(t) if w), default=0)

    spanned_once = {sp.columns[0]: sp.label + (f" (N={sp.n})" if sp.n is not None else "")
                    for sp in content.spanners if len(sp.columns) == 1}
    total = longest([content.stub_label, *(content.stub_text(r) for r in content.rows)]) + 2
    for col in content.columns:
        head = [col.label, *([f"(N={col.n})"] if col.n is not None else [])]
        if col.id in spanned_once:
            head.append(spanned_once[col.id])
        total += longest([*head, *(content.cell(r, col.id) for r in content.rows)]) + 2
    return total


def needs_landscape(content: TableContent) -> bool:
    """Whether the table goes on a landscape page (the book's rule: see
    :func:`min_table_chars` and :data:`PORTRAIT_CHARS`)."""
    return min_table_chars(content) > PORTRAIT_CHARS
