"""Save a figure as SVG, PNG and PDF with byte-identical output between runs, and show it in a
chapter with both a vector (SVG) and a raster (PNG) representation."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from trialreport.figures.style import RC, SVG_HASHSALT

PNG_DPI = 200

#: Metadata that would otherwise carry the date or the software version (the PDF backend calls
#: the date ``CreationDate``; the SVG backend calls it ``Date``).
_METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
    "png": {"Software": None},
}


def save_figure(fig: Figure, stem: Path | str,
                formats: Sequence[str] = ("svg", "png", "pdf"),
                dpi: int = PNG_DPI) -> dict[str, Path]:
    """Write ``fig`` to ``<stem>.<format>`` for each format; returns ``{format: path}``.

    Output is deterministic: no dates or creator strings, a fixed SVG id salt, fonts embedded
    the same way every time. ``stem`` may contain dots (``fig-14.2.1``); the format's suffix is
    appended, never substituted. The figure keeps its size (no tight bounding box).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    rc = {key: RC[key] for key in ("svg.fonttype", "pdf.fonttype", "ps.fonttype")}
    rc["svg.hashsalt"] = SVG_HASHSALT
    written: dict[str, Path] = {}
    with mpl.rc_context(rc):
        for fmt in formats:
            fmt = fmt.lower().lstrip(".")
            path = stem.parent / f"{stem.name}.{fmt}"
            fig.savefig(path, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt),
                        facecolor="white")
            written[fmt] = path
    return written


def _render(fig: Figure, fmt: str, dpi: int) -> bytes:
    rc = {key: RC[key] for key in ("svg.fonttype", "pdf.fonttype", "ps.fonttype")}
    rc["svg.hashsalt"] = SVG_HASHSALT
    buffer = io.BytesIO()
    with mpl.rc_context(rc):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt), facecolor="white")
    return buffer.getvalue()


class FigureDisplay:
    """A figure for Jupyter display: ``image/svg+xml`` (vector: PDF and HTML) and ``image/png``
    (raster at ``dpi``, with its resolution recorded so that the renderer knows its size:
    Word, and any output that cannot take SVG). Both are byte-identical between runs."""

    def __init__(self, png: bytes, svg: str) -> None:
        self.png = png
        self.svg = svg

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_svg_(self) -> str:
        return self.svg


def display_figure(fig: Figure, dpi: int = PNG_DPI) -> FigureDisplay:
    """``fig`` as a display object with SVG and PNG representations (the figure keeps its size;
    the caller closes it). Use in a chapter cell as its last expression, or with
    ``IPython.display.display``."""
    return FigureDisplay(_render(fig, "png", dpi), _render(fig, "svg", dpi).decode("utf-8"))
