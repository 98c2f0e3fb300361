"""CONSORT 2010 flow diagram drawn with matplotlib only (no browser, no graphviz).

Input: :class:`ConsortCounts` (plain counts with reasons). :func:`as_consort_counts` also accepts
any object with the same attribute names, e.g. the analysis package's ``ConsortFlow`` (built from
data, or from ARD rows with ``ConsortFlow.from_ard``).

Layout: stage labels (Enrollment, Allocation, Follow-up, Analysis) in the left margin; a central
trunk from "Assessed for eligibility" to "Randomised" with the "Excluded" box to its right; one
column per arm below. Every box is sized to its text, measured with the Agg renderer, and text is
wrapped to the column width, so the diagram works for any number of arms at A4 width.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.text import Text

from trialreport.figures.style import (
    A4_WIDTH_IN,
    FONT_SIZE,
    INK,
    STAGE_FILL,
    arm_label,
    new_figure,
    style_context,
)

Reason = tuple[str, int]

#: Stage names as printed in the left margin (CONSORT 2010 wording).
STAGES = ("Enrollment", "Allocation", "Follow-up", "Analysis")


@dataclass(frozen=True)
class ConsortArm:
    """Counts for one randomised arm (``code`` as in the data)."""

    code: str
    allocated: int
    received: int
    not_received: int = 0
    discontinued: int = 0
    analysed: int = 0
    excluded_from_analysis: int = 0
    completed: int | None = None
    not_received_reasons: tuple[Reason, ...] = ()
    discontinued_reasons: tuple[Reason, ...] = ()
    excluded_from_analysis_reasons: tuple[Reason, ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class ConsortCounts:
    """Everything a CONSORT diagram shows: screening, randomisation and one entry per arm.

    ``assessed`` and ``excluded`` are ``None`` when there is no screening log (the diagram then
    starts at "Randomised").
    """

    assessed: int | None
    excluded: int | None
    randomised: int
    arms: tuple[ConsortArm, ...]
    excluded_reasons: tuple[Reason, ...] = ()

    def problems(self) -> list[str]:
        """Broken count identities (empty when the flow is conserved)."""
        out: list[str] = []

        def same(label: str, left: int, right: int) -> None:
            if left != right:
                out.append(f"{label}: {left} != {right}")

        if self.assessed is not None:
            same("assessed = excluded + randomised", self.assessed,
                 (self.excluded or 0) + self.randomised)
        same("randomised = sum of allocated", self.randomised, sum(a.allocated for a in self.arms))
        if self.excluded_reasons:
            same("excluded = sum of reasons", self.excluded or 0,
                 sum(n for _, n in self.excluded_reasons))
        for a in self.arms:
            same(f"{a.code}: allocated = received + not received", a.allocated,
                 a.received + a.not_received)
            same(f"{a.code}: allocated = analysed + excluded from analysis", a.allocated,
                 a.analysed + a.excluded_from_analysis)
            for name in ("not_received", "discontinued", "excluded_from_analysis"):
                reasons = getattr(a, f"{name}_reasons")
                if reasons:
                    same(f"{a.code}: {name} = sum of reasons", getattr(a, name),
                         sum(n for _, n in reasons))
        return out


# --------------------------------------------------------------------------------------------
# Adapters


def _reasons(value: Any) -> tuple[Reason, ...]:
    """Reasons from a mapping, a sequence of pairs, or a Series (reason -> n)."""
    if value is None:
        return ()
    items = value.items() if hasattr(value, "items") else value
    return tuple((str(k), int(v)) for k, v in items)


def _from_object(flow: Any) -> ConsortCounts:
    """Duck-typed adapter: any object with ConsortCounts-like attribute names, e.g.
    ``trialreport.families.disposition.ConsortFlow`` (reasons as dicts, per-arm ``label`` and
    ``excluded_reasons`` for the analysis exclusions)."""
    def get(obj: Any, *names: str, default: Any = None) -> Any:
        for name in names:
            if isinstance(obj, Mapping) and name in obj:
                return obj[name]
            if hasattr(obj, name):
                return getattr(obj, name)
        return default

    arms_in = get(flow, "arms")
    if isinstance(arms_in, Mapping):
        arms_in = [dict(_code=k, **(v if isinstance(v, Mapping) else vars(v)))
                   for k, v in arms_in.items()]
    arms = []
    for a in arms_in or ():
        code = get(a, "code", "arm", "_code")
        allocated = int(get(a, "allocated"))
        received = int(get(a, "received", default=allocated))
        nr_r = _reasons(get(a, "not_received_reasons"))
        dc_r = _reasons(get(a, "discontinued_reasons"))
        ex_r = _reasons(get(a, "excluded_from_analysis_reasons", "excluded_reasons"))
        completed = get(a, "completed")
        label = get(a, "label")
        arms.append(ConsortArm(
            code=str(code), allocated=allocated, received=received,
            not_received=int(get(a, "not_received", default=allocated - received)),
            discontinued=int(get(a, "discontinued", default=sum(n for _, n in dc_r))),
            analysed=int(get(a, "analysed", default=allocated)),
            excluded_from_analysis=int(get(a, "excluded_from_analysis",
                                           default=sum(n for _, n in ex_r))),
            completed=None if completed is None else int(completed),
            not_received_reasons=nr_r, discontinued_reasons=dc_r,
            excluded_from_analysis_reasons=ex_r, label=None if label is None else str(label)))
    ex_reasons = _reasons(get(flow, "excluded_reasons"))
    assessed = get(flow, "assessed")
    excluded = get(flow, "excluded")
    if assessed is not None and excluded is None:
        excluded = sum(n for _, n in ex_reasons)
    return ConsortCounts(
        assessed=None if assessed is None else int(assessed),
        excluded=None if excluded is None else int(excluded),
        randomised=int(get(flow, "randomised", default=sum(a.allocated for a in arms))),
        arms=tuple(arms), excluded_reasons=ex_reasons)


def as_consort_counts(flow: Any) -> ConsortCounts:
    """Accept :class:`ConsortCounts` or a ConsortFlow-like object (for ARD rows use
    :meth:`trialreport.families.disposition.ConsortFlow.from_ard`, which knows the study's
    total label)."""
    if isinstance(flow, ConsortCounts):
        return flow
    return _from_object(flow)


# --------------------------------------------------------------------------------------------
# Text measurement and boxes (all layout in inches; the axes maps 1 data unit to 1 inch)

PAD_X = 0.07          # inner horizontal padding of a box
PAD_Y = 0.055         # inner vertical padding of a box
ITEM_GAP = 0.02       # vertical gap between items in a box
BULLETS = {1: "\u2022", 2: "\u2013"}


def reason_label(reason: str) -> str:
    """Sentence case for coded (upper-case) reasons; other text is kept as given."""
    text = str(reason).strip()
    if text.isupper():
        return text[:1] + text[1:].lower()
    return text


def _n(label: str, n: int) -> str:
    return f"{label} (n={n})"


class _Measure:
    """Measures and wraps text with the figure's renderer."""

    def __init__(self, fig: Figure, fontsize: float) -> None:
        self.fig = fig
        self.renderer = fig.canvas.get_renderer()
        self.fontsize = fontsize
        self.prop = FontProperties(size=fontsize)
        self.indent = self.width(BULLETS[1] + "\u2009") + 0.03

    def width(self, text: str) -> float:
        w, _, _ = self.renderer.get_text_width_height_descent(text, self.prop, ismath=False)
        return w / self.fig.dpi

    def wrap(self, text: str, max_width: float) -> str:
        """Greedy word wrap to ``max_width`` inches (a single over-long word stays whole;
        a count ``(n=..)`` or a short unit after a number, as in ``30 mg``, stays with the word
        before it)."""
        words: list[str] = []
        for word in text.split():
            glue = word.startswith("(n=") or (
                len(word) <= 3 and bool(words) and words[-1].replace(".", "", 1).isdigit())
            if words and glue:
                words[-1] = f"{words[-1]}\u00a0{word}"
            else:
                words.append(word)
        lines: list[str] = []
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and self.width(candidate) > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        if current:
            lines.append(current)
        return "\n".join(lines).replace("\u00a0", " ")

    def extent(self, artist: Text) -> tuple[float, float]:
        bb = artist.get_window_extent(self.renderer)
        return bb.width / self.fig.dpi, bb.height / self.fig.dpi


@dataclass
class _Box:
    """A box of items ``(level, text)``: level 0 plain, 1 bullet, 2 sub-bullet."""

    name: str
    items: list[tuple[int, str]]
    artists: list[tuple[float, float, Text]] = field(default_factory=list)  # (dx, dy, text)
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0

    def natural_width(self, m: _Measure) -> float:
        text_w = max(level * m.indent + m.width(text) for level, text in self.items)
        return text_w + 2 * PAD_X + 0.02  # slack for rounding in the renderer

    def build(self, ax: Axes, m: _Measure, width: float) -> None:
        """Create the text artists, wrapped to ``width``; sets the content height."""
        self.width = width
        dy = PAD_Y
        for i, (level, text) in enumerate(self.items):
            if i:
                dy += ITEM_GAP
            dx = PAD_X + level * m.indent
            body = ax.text(0, 0, m.wrap(text, width - PAD_X - dx), ha="left", va="top",
                           fontsize=m.fontsize, parse_math=False, linespacing=1.15,
                           gid=f"consort-text-{self.name}-{i}")
            if level:
                bullet = ax.text(0, 0, BULLETS[level], ha="left", va="top", fontsize=m.fontsize,
                                 parse_math=False, gid=f"consort-bullet-{self.name}-{i}")
                self.artists.append((dx - m.indent, dy, bullet))
            self.artists.append((dx, dy, body))
            dy += m.extent(body)[1]
        self.height = dy + PAD_Y

    def place(self, ax: Axes, x: float, y: float, height: float | None = None) -> None:
        """Put the box's top-left corner at ``(x, y)`` and draw its frame."""
        self.x, self.y = x, y
        if height is not None:
            self.height = height
        for dx, dy, artist in self.artists:
            artist.set_position((x + dx, y + dy))
        ax.add_patch(Rectangle((x, y), self.width, self.height, facecolor="white",
                               edgecolor=INK, linewidth=0.7, zorder=2,
                               gid=f"consort-box-{self.name}"))

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=7,
                                 shrinkA=0, shrinkB=0, linewidth=0.7, color=INK, zorder=1))


def _line(ax: Axes, xs: Sequence[float], ys: Sequence[float]) -> None:
    ax.plot(xs, ys, color=INK, linewidth=0.7, solid_capstyle="butt", zorder=1)


def _reason_items(reasons: Iterable[Reason], level: int) -> list[tuple[int, str]]:
    return [(level, _n(reason_label(r), n)) for r, n in reasons]


def _arm_boxes(arm: ConsortArm, label: str) -> dict[str, list[tuple[int, str]]]:
    allocation = [(0, _n(f"Allocated to {label}", arm.allocated)),
                  (1, _n("Received allocated intervention", arm.received)),
                  (1, _n("Did not receive allocated intervention", arm.not_received))]
    allocation += _reason_items(arm.not_received_reasons, 2)
    follow_up = [(0, _n("Discontinued", arm.discontinued))]
    follow_up += _reason_items(arm.discontinued_reasons, 1)
    if arm.completed is not None:
        follow_up.append((0, _n("Completed follow-up", arm.completed)))
    analysis = [(0, _n("Analysed", arm.analysed)),
                (1, _n("Excluded from analysis", arm.excluded_from_analysis))]
    analysis += _reason_items(arm.excluded_from_analysis_reasons, 2)
    return {"allocation": allocation, "follow-up": follow_up, "analysis": analysis}


# --------------------------------------------------------------------------------------------
# The diagram

MARGIN = 0.04         # outer margin (inches)
STAGE_W = 0.24        # width of the stage-label bars in the left margin
STAGE_GAP = 0.1       # gap between stage bars and the diagram
COL_GUTTER = 0.14     # minimum horizontal space between arm boxes
V_GAP = 0.2           # vertical gap (arrow length) between boxes
BRANCH = 0.3          # length of the arrow from the trunk to the "Excluded" box


def plot_consort(flow: Any, arm_labels: Mapping[str, str] | None = None, *,
                 width: float = A4_WIDTH_IN, fontsize: float = FONT_SIZE) -> Figure:
    """CONSORT 2010 flow diagram for any number of arms.

    ``flow``: :class:`ConsortCounts`, ARD ``consort`` rows, or a ConsortFlow-like object;
    ``arm_labels``: arm code -> display label (e.g. ``{"Alemtuzumab 60 mg": "60 mg"}``).
    Returns a figure ``width`` inches wide whose height fits the content.
    """
    counts = as_consort_counts(flow)
    if not counts.arms:
        raise ValueError("a CONSORT diagram needs at least one arm")
    width = min(width, A4_WIDTH_IN)
    with style_context():
        fig = new_figure(width, 6.0)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        m = _Measure(fig, fontsize)

        left = MARGIN + STAGE_W + STAGE_GAP
        right = width - MARGIN
        x_c = (left + right) / 2

        # Enrollment: trunk with the Excluded box branching to the right.
        trunk_max = 2 * (x_c - left)
        randomised = _Box("randomised", [(0, _n("Randomised", counts.randomised))])
        randomised.build(ax, m, min(randomised.natural_width(m), trunk_max))
        if counts.assessed is not None:
            assessed = _Box("assessed", [(0, _n("Assessed for eligibility", counts.assessed))])
            excluded = _Box("excluded", [(0, _n("Excluded", counts.excluded or 0))]
                            + _reason_items(counts.excluded_reasons, 1))
            assessed.build(ax, m, min(assessed.natural_width(m), trunk_max))
            excluded.build(ax, m, min(excluded.natural_width(m), right - x_c - BRANCH))
            assessed.place(ax, x_c - assessed.width / 2, MARGIN)
            excluded.place(ax, x_c + BRANCH, assessed.bottom + V_GAP)
            randomised.place(ax, x_c - randomised.width / 2, excluded.bottom + V_GAP)
            _arrow(ax, (x_c, assessed.bottom), (x_c, randomised.y))
            _arrow(ax, (x_c, excluded.y + excluded.height / 2),
                   (excluded.x, excluded.y + excluded.height / 2))
            enrol_top = assessed.y
        else:
            enrol_top = MARGIN
            span = max(randomised.height, m.width(STAGES[0]) + 2 * PAD_Y + 0.04)
            randomised.place(ax, x_c - randomised.width / 2,
                             MARGIN + (span - randomised.height) / 2)
        stage_spans = {"Enrollment": (enrol_top, max(randomised.bottom,
                                                     enrol_top + m.width(STAGES[0]) + 0.15))}

        # One column per arm.
        n_arms = len(counts.arms)
        col_w = (right - left) / n_arms
        centres = [left + (i + 0.5) * col_w for i in range(n_arms)]
        rows = ("allocation", "follow-up", "analysis")
        boxes: dict[str, list[_Box]] = {r: [] for r in rows}
        for i, arm in enumerate(counts.arms):
            label = arm_label(arm_labels, arm.code) if arm_labels else (arm.label or arm.code)
            for r, items in _arm_boxes(arm, label).items():
                boxes[r].append(_Box(f"{r}-{i + 1}", items))
        box_w = min(max(b.natural_width(m) for r in rows for b in boxes[r]),
                    col_w - COL_GUTTER)
        for r in rows:
            for b in boxes[r]:
                b.build(ax, m, box_w)

        # Randomised -> allocation: a bus line across the arm columns.
        bus_y = max(randomised.bottom, stage_spans["Enrollment"][1]) + V_GAP * 0.5
        _line(ax, [x_c, x_c], [randomised.bottom, bus_y])
        if n_arms > 1:
            _line(ax, [centres[0], centres[-1]], [bus_y, bus_y])
        y = bus_y + V_GAP * 0.8        # top of the next stage
        above = bus_y                  # where arrows into the next row start
        for r, stage in zip(rows, STAGES[1:], strict=True):
            # Boxes of a row share a height; a stage bar taller than the boxes (long label)
            # centres them vertically within the stage.
            row_h = max(b.height for b in boxes[r])
            span = max(row_h, m.width(stage) + 2 * PAD_Y + 0.04)
            box_y = y + (span - row_h) / 2
            for b, cx in zip(boxes[r], centres, strict=True):
                b.place(ax, cx - box_w / 2, box_y, row_h)
                _arrow(ax, (cx, above), (cx, box_y))
            stage_spans[stage] = (y, y + span)
            above = box_y + row_h
            y += span + V_GAP

        # Stage labels in the left margin.
        for stage, (y0, y1) in stage_spans.items():
            ax.add_patch(Rectangle((MARGIN, y0), STAGE_W, y1 - y0, facecolor=STAGE_FILL,
                                   edgecolor=INK, linewidth=0.6, zorder=2,
                                   gid=f"consort-stage-{stage.lower()}"))
            ax.text(MARGIN + STAGE_W / 2, (y0 + y1) / 2, stage, rotation=90, ha="center",
                    va="center", fontsize=fontsize, fontweight="bold", parse_math=False,
                    rotation_mode="anchor", gid=f"consort-stagelabel-{stage.lower()}")

        height = stage_spans["Analysis"][1] + MARGIN
        fig.set_size_inches(width, height)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    return fig


def consort_boxes(fig: Figure) -> list[Rectangle]:
    """The box patches of a CONSORT figure (content boxes and stage bars), for checks."""
    return [p for ax in fig.axes for p in ax.patches
            if isinstance(p, Rectangle) and (p.get_gid() or "").startswith("consort-")]
