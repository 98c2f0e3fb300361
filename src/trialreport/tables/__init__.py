"""CSR tables (ICH E3 section 14) from the analysis results data (ARD).

Each output type of the study definition builds its table in its family module
(:mod:`trialreport.families`); this package holds the shared look (:mod:`._layout`) and the
deterministic HTML (:func:`to_html`). :func:`build_output` builds any numbered output::

    from trialreport.tables import build_output
    gt = build_output(study, "baseline", ard)          # a great_tables.GT

:func:`output_content` returns what the output shows independent of the format (the
:class:`TableContent` the GT is drawn from, or a figure's :class:`FigureContent`), from which
the stand-alone RTF files of the TLF package (:mod:`trialreport.tlf`) are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from great_tables import GT

from trialreport.tables._content import FigureContent, TableContent
from trialreport.tables._render import to_html

__all__ = ["CsrTable", "FigureContent", "TableContent", "build_output", "output_content",
           "to_html"]


@dataclass(frozen=True)
class CsrTable:
    """A built table for display: ``gt`` plus its deterministic HTML (``_repr_html_``)."""

    name: str
    gt: GT

    @property
    def html(self) -> str:
        """The table's HTML (see :func:`to_html`)."""
        return to_html(self.gt)

    def _repr_html_(self) -> str:
        return self.html


def build_output(study: Any, name: str, ard: Any, data: Any = None, *, title: bool = True
                 ) -> Any:
    """The table, listing (``great_tables.GT``) or figure (matplotlib) of output ``name``.

    Listings and figures drawn from records need the trial ``data``. ``title=False`` keeps only
    the population line in a table's header (the book's caption carries the numbered title).
    """
    from trialreport.outputs import OutputContext, output_type

    spec = study.output(name)
    ctx = OutputContext(spec=spec, study=study, ard=ard, data=data, title=title)
    return output_type(spec.type).build(ctx)


def output_content(study: Any, name: str, ard: Any, data: Any = None
                   ) -> TableContent | FigureContent:
    """What output ``name`` shows, independent of the file format.

    A table or listing: the :class:`TableContent` its family builds (the very object the
    book's GT is drawn from, with the numbered title). A figure: its :class:`FigureContent`
    (title, population line, notes and source line; the drawing is :func:`build_output`'s).
    """
    from trialreport.outputs import OutputContext, output_type
    from trialreport.tables._layout import capture_contents, figure_content

    spec = study.output(name)
    otype = output_type(spec.type)
    ctx = OutputContext(spec=spec, study=study, ard=ard, data=data, title=True)
    if spec.kind == "figure":
        return figure_content(ctx)
    with capture_contents() as captured:
        otype.build(ctx)
    if len(captured) != 1:
        raise RuntimeError(f"output {name!r} ({otype.family}) built {len(captured)} tables "
                           "through csr_table; expected exactly one")
    return captured[0]
