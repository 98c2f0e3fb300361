"""Save a figure as SVG, PNG and PDF with byte-identical output between runs."""

from __future__ import annotations

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


def display_figure(fig: Figure, dpi: int = PNG_DPI) -> Any:
    """A display object for a notebook cell: the figure as PNG (deterministic bytes)."""
    import io

    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata=_METADATA["png"], facecolor="white")
    return Image(data=buffer.getvalue(), format="png")
