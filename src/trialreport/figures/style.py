"""One shared matplotlib style for every figure of the report.

DejaVu Sans at 8 pt (titles 9 pt, nothing below 7.5 pt), colour-blind-safe Okabe-Ito colours
per arm, and the usable A4 text width (6.3 in). Figures are built with
:func:`new_figure` inside :func:`style_context` so that no global pyplot state is touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Usable text width of an A4 page with 2.5 cm margins, in inches.
A4_WIDTH_IN = 6.3
#: Base font size (points) and the smallest size any figure may use.
FONT_SIZE = 8.0
SMALL_FONT_SIZE = 7.5
TITLE_FONT_SIZE = 9.0
FONT_FAMILY = "DejaVu Sans"

#: Okabe-Ito palette (Okabe & Ito 2008), safe for the common colour-vision deficiencies.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Arm colours in display order (arm 1, arm 2, ...); cycles for more arms than colours.
ARM_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["vermillion"],
)
#: Neutral colours for lines, box edges and light fills.
INK = "#1A1A1A"
GREY = "#6E6E6E"
LIGHT_GREY = "#D9D9D9"
STAGE_FILL = "#DCEAF5"

#: Fixed salt for SVG element ids, so that SVG output is byte-identical between runs.
SVG_HASHSALT = "trialreport"

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": FONT_SIZE,
    "axes.titlesize": TITLE_FONT_SIZE,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_SIZE,
    "axes.linewidth": 0.6,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=list(ARM_COLOURS)),
    "xtick.labelsize": FONT_SIZE,
    "ytick.labelsize": FONT_SIZE,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.fontsize": FONT_SIZE,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "lines.linewidth": 1.3,
    "patch.linewidth": 0.6,
    "text.color": INK,
    "text.usetex": False,
    # labels come from data and the study definition: a "$" is a dollar sign, never mathtext
    "text.parse_math": False,
    "mathtext.default": "regular",
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.dpi": 200,
    "savefig.facecolor": "white",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}


@contextmanager
def style_context() -> Iterator[None]:
    """Apply the report style for the duration of a ``with`` block."""
    with mpl.rc_context(RC):
        yield


def new_figure(width: float = A4_WIDTH_IN, height: float = 4.0, *,
               layout: str | None = None) -> Figure:
    """A figure with an Agg canvas (no pyplot, no GUI); call inside :func:`style_context`."""
    fig = Figure(figsize=(min(width, A4_WIDTH_IN), height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def arm_colour(index: int) -> str:
    """Colour of the arm at position ``index`` in display order."""
    return ARM_COLOURS[index % len(ARM_COLOURS)]


def arm_colours(codes: Sequence[str]) -> dict[str, str]:
    """Colours for arm codes in display order."""
    return {code: arm_colour(i) for i, code in enumerate(codes)}


def arm_label(arm_labels: Mapping[str, str] | None, code: str) -> str:
    """Display label of arm ``code`` (the code itself when no label is known)."""
    if arm_labels and code in arm_labels:
        return str(arm_labels[code])
    return str(code)


def ordered_arms(codes: Sequence[str], arm_labels: Mapping[str, str] | None) -> list[str]:
    """Arm codes in the display order of ``arm_labels``, then any others in given order."""
    present = list(dict.fromkeys(codes))
    order = [c for c in (arm_labels or {}) if c in present]
    return order + [c for c in present if c not in order]


def lighten(colour: str, amount: float = 0.55) -> tuple[float, float, float]:
    """Mix ``colour`` with white (``amount`` 0 = unchanged, 1 = white)."""
    r, g, b = mpl.colors.to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def darken(colour: str, amount: float = 0.3) -> tuple[float, float, float]:
    """Mix ``colour`` with black, for coloured text that must stay readable on white."""
    r, g, b = mpl.colors.to_rgb(colour)
    return (r * (1 - amount), g * (1 - amount), b * (1 - amount))


def freeze_layout(fig: Figure) -> Figure:
    """Run the figure's layout engine once and keep the result.

    Constrained layout is re-solved at every draw and each solution starts from the previous
    one, so two saves of the same figure could differ in the last digits of coordinates;
    freezing makes every save of the figure byte-identical.
    """
    if fig.get_layout_engine() is not None:
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
    return fig
