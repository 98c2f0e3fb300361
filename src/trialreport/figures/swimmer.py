"""Swimmer plot: one lane per treated patient over the follow-up period.

Input: one :class:`Lane` per patient (times in months since first dose). :func:`as_lanes` also
accepts

* ``trialreport.families.profiles.SwimmerData`` (``.lanes`` with ``subject, arm, end_month,
  discontinued``; ``.events`` with ``subject, event, month, value, detail``), or
* a long DataFrame of events with columns ``subject, arm, event, time, value`` where ``event``
  is ``end`` (value ``COMPLETED`` / ``DISCONTINUED``), ``course``, ``response`` (value
  ``COMPLETE`` / ``PARTIAL`` / ``NONE``), ``relapse`` or ``sae`` (value ``RELATED`` /
  ``NOT RELATED``), or
* objects / mappings with the :class:`Lane` attribute names.

Subject ids sharing a ``STUDY-`` prefix are shown without it.

Encoding: the bar spans the follow-up, tinted with the arm colour; alemtuzumab courses sit
above the bar (down triangles), responses at each visit on it (filled / half-filled / open
circles), relapse onset on it (star), serious adverse events below it (up triangles, filled =
related), and the bar's end shows completion (arrowhead) or discontinuation (bar).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from trialreport.figures.km import time_ticks
from trialreport.figures.style import (
    A4_WIDTH_IN,
    FONT_SIZE,
    GREY,
    INK,
    OKABE_ITO,
    SMALL_FONT_SIZE,
    arm_colour,
    arm_label,
    darken,
    freeze_layout,
    lighten,
    new_figure,
    ordered_arms,
    style_context,
)

#: Default response levels, best first (a study definition may give its own:
#: ``swimmer.response.levels``, code -> label).
RESPONSE_LABELS = {"COMPLETE": "Complete response", "PARTIAL": "Partial response",
                   "NONE": "No response"}
RESPONSES = tuple(RESPONSE_LABELS)


@dataclass(frozen=True)
class Lane:
    """One patient's lane; all times in months since the first dose."""

    subject: str
    arm: str
    end: float
    discontinued: bool = False
    courses: tuple[float, ...] = ()
    responses: tuple[tuple[float, str], ...] = ()
    relapses: tuple[float, ...] = ()
    saes: tuple[tuple[float, bool], ...] = ()

    def best_response(self, order: Sequence[str] = RESPONSES) -> str | None:
        """Best response over the visits (first in ``order``), ``None`` if none."""
        seen = {str(r).upper() for _, r in self.responses}
        return next((r for r in order if r.upper() in seen), None)


def _sort_key(lane: Lane, order: Sequence[str] = RESPONSES) -> tuple[int, float, str]:
    best = lane.best_response(order)
    rank = list(order).index(best) if best else len(order)
    return rank, -lane.end, lane.subject


def response_marker(position: int, count: int) -> dict[str, Any]:
    """Marker of the response level at ``position`` of ``count`` (best first): the best
    filled, the worst hollow, the ones between half-filled (squares and diamonds beyond)."""
    shapes = ("o", "s", "D", "p")
    common = dict(markersize=5.0, markeredgecolor=INK, markeredgewidth=0.8)
    if position == 0:
        return dict(marker="o", markerfacecolor=INK, **common)
    if position == count - 1:
        return dict(marker="o", markerfacecolor="white", **common)
    return dict(marker=shapes[(position - 1) % len(shapes)], fillstyle="left",
                markerfacecolor=INK, markerfacecoloralt="white", **common)


def _lanes_from_events(frame: pd.DataFrame) -> list[Lane]:
    cols = {c.lower(): c for c in frame.columns}
    need = ("subject", "arm", "event", "time")
    missing = [c for c in need if c not in cols]
    if missing:
        raise ValueError(f"swimmer events need columns {need} (+ value); missing {missing}")
    value_c = cols.get("value")
    lanes = []
    for (subject, arm), g in frame.groupby([cols["subject"], cols["arm"]], sort=False,
                                           observed=True):
        ev = g[cols["event"]].astype(str).str.lower().to_numpy()
        t = pd.to_numeric(g[cols["time"]]).astype(float).to_numpy()
        val = (g[value_c].astype("string").fillna("").str.upper().to_numpy(dtype=object)
               if value_c else np.full(len(g), "", dtype=object))
        end_rows = ev == "end"
        end = float(t[end_rows].max()) if end_rows.any() else float(np.nanmax(t))
        lanes.append(Lane(
            subject=str(subject), arm=str(arm), end=end,
            discontinued=bool(end_rows.any() and any(v.startswith("DISC")
                                                     for v in val[end_rows])),
            courses=tuple(float(x) for x in t[ev == "course"]),
            responses=tuple((float(x), str(v)) for x, v in
                            zip(t[ev == "response"], val[ev == "response"], strict=True)),
            relapses=tuple(float(x) for x in t[ev == "relapse"]),
            saes=tuple((float(x), v == "RELATED" or v == "Y") for x, v in
                       zip(t[ev == "sae"], val[ev == "sae"], strict=True))))
    return lanes


def _lanes_from_swimmer_data(sd: Any, related_values: Sequence[str]) -> list[Lane]:
    """Adapter for ``trialreport.families.profiles.SwimmerData`` (lanes + events frames)."""
    related = {str(v).upper() for v in related_values}
    ev = sd.events
    lanes = []
    for row in sd.lanes.itertuples(index=False):
        e = ev[ev["subject"] == row.subject]
        kind = e["event"].astype(str).to_numpy()
        month = pd.to_numeric(e["month"]).astype(float).to_numpy()
        value = e["value"].astype(str).str.upper().to_numpy(dtype=object)
        detail = e["detail"].astype(str).str.upper().to_numpy(dtype=object)
        ok = ~np.isnan(month)
        lanes.append(Lane(
            subject=str(row.subject), arm=str(row.arm), end=float(row.end_month),
            discontinued=bool(row.discontinued),
            courses=tuple(float(m) for m in month[(kind == "course") & ok]),
            responses=tuple((float(m), str(v)) for m, v in
                            zip(month[(kind == "response") & ok],
                                value[(kind == "response") & ok], strict=True)),
            relapses=tuple(float(m) for m in month[(kind == "relapse") & ok]),
            saes=tuple((float(m), d in related) for m, d in
                       zip(month[(kind == "sae") & ok], detail[(kind == "sae") & ok],
                           strict=True))))
    return lanes


def as_lanes(lanes: Any, related_values: Sequence[str] = ("RELATED", "Y")) -> list[Lane]:
    """Accept :class:`Lane` objects, ``SwimmerData``, a long events DataFrame, or Lane-like
    objects; ``related_values``: relatedness values that count as related."""
    if isinstance(lanes, pd.DataFrame):
        return _lanes_from_events(lanes)
    if hasattr(lanes, "lanes") and hasattr(lanes, "events"):
        return _lanes_from_swimmer_data(lanes, related_values)
    out = []
    for lane in lanes:
        if isinstance(lane, Lane):
            out.append(lane)
            continue
        get = lane.get if isinstance(lane, Mapping) else lambda k, d=None, _l=lane: getattr(
            _l, k, d)
        out.append(Lane(
            subject=str(get("subject")), arm=str(get("arm")), end=float(get("end")),
            discontinued=bool(get("discontinued", False)),
            courses=tuple(float(x) for x in get("courses", ()) or ()),
            responses=tuple((float(x), str(r)) for x, r in get("responses", ()) or ()),
            relapses=tuple(float(x) for x in get("relapses", ()) or ()),
            saes=tuple((float(x), bool(r)) for x, r in get("saes", ()) or ())))
    return out


# Marker styles (also used for the legend, so plot and legend cannot disagree).
_RELAPSE = OKABE_ITO["vermillion"]
_SAE = OKABE_ITO["reddish_purple"]
MARKERS: dict[str, dict[str, Any]] = {
    "course": dict(marker="v", markersize=4.6, color=INK, markeredgewidth=0.0),
    "relapse": dict(marker="*", markersize=8.5, markerfacecolor=_RELAPSE,
                    markeredgecolor=INK, markeredgewidth=0.4),
    "sae_related": dict(marker="^", markersize=4.6, markerfacecolor=_SAE,
                        markeredgecolor=_SAE, markeredgewidth=0.9),
    "sae_unrelated": dict(marker="^", markersize=4.6, markerfacecolor="white",
                          markeredgecolor=_SAE, markeredgewidth=0.9),
    "completed": dict(marker=">", markersize=5.0, color=GREY, markeredgewidth=0.0),
    "discontinued": dict(marker="|", markersize=9.0, color=INK, markeredgewidth=2.0),
}
LEGEND_LABELS = {
    "relapse": "Relapse onset",
    "sae_related": "SAE, related",
    "sae_unrelated": "SAE, not related",
    "completed": "Follow-up completed",
    "discontinued": "Discontinued",
}

LANE_PITCH_IN = 0.22   # height per patient lane (inches)
BAR_HEIGHT = 0.36      # bar height as a fraction of the pitch
OFFSET = 0.34          # vertical offset (fraction of pitch) of course / SAE markers
END_GAP = 0.14         # months between the bar's end and its end marker


def short_ids(subjects: Sequence[str]) -> list[str]:
    """Drop a prefix shared by all ids up to its last ``-`` (``ALEVIATE-001`` -> ``001``)."""
    subjects = [str(s) for s in subjects]
    if len(subjects) < 2:
        return subjects
    prefix = subjects[0]
    for s in subjects[1:]:
        while not s.startswith(prefix):
            prefix = prefix[:-1]
    cut = prefix.rfind("-") + 1
    return [s[cut:] or s for s in subjects]


def _mark(ax: Any, xs: Sequence[float], y: float, kind: str, gid: str,
          style: Mapping[str, Any] | None = None) -> None:
    if len(xs):
        ax.plot(list(xs), [y] * len(xs), linestyle="none", zorder=4, gid=gid,
                **(style if style is not None else MARKERS[kind]))


def plot_swimmer(lanes: Any, arm_labels: Mapping[str, str] | None = None, *,
                 months: float = 12.0, title: str | None = None,
                 xlabel: str = "Months since first dose", width: float = A4_WIDTH_IN,
                 related_values: Sequence[str] = ("RELATED", "Y"),
                 responses: Mapping[str, str] | None = None,
                 course_label: str = "Treatment course") -> Figure:
    """Swimmer plot, one lane per patient, grouped by arm (in ``arm_labels`` order) and
    sorted within arm by best response then longer follow-up.

    ``responses``: response levels (code -> label), best first (default
    :data:`RESPONSE_LABELS`); ``course_label`` names the course markers in the legend.

    ``lanes``: see :func:`as_lanes`; ``months``: the scheduled follow-up (x axis at least this
    long). The height grows with the number of patients (:data:`LANE_PITCH_IN` per lane).
    """
    items = as_lanes(lanes, related_values)
    if not items:
        raise ValueError("a swimmer plot needs at least one lane")
    arms = ordered_arms([lane.arm for lane in items], arm_labels)
    levels = dict(responses or RESPONSE_LABELS)
    order = [str(code).upper() for code in levels]
    styles = {code: response_marker(i, len(order)) for i, code in enumerate(order)}
    groups = {a: sorted((lane for lane in items if lane.arm == a),
                        key=lambda lane: _sort_key(lane, order)) for a in arms}

    # Rows from the top: one header row per arm, then its lanes.
    rows: list[tuple[float, Lane]] = []
    headers: list[tuple[float, str, int]] = []
    y = 0.0
    for i, a in enumerate(arms):
        headers.append((y, a, i))
        y += 1.0
        for lane in groups[a]:
            rows.append((y, lane))
            y += 1.0
        y += 0.3
    n_rows = y - 0.3

    t_max = max(months, max(lane.end for lane in items))
    ticks = time_ticks(t_max, "months")
    legend_h = 0.62
    height = LANE_PITCH_IN * n_rows + 0.75 + legend_h + (0.25 if title else 0.0)

    with style_context():
        fig = new_figure(width, height, layout="constrained")
        ax = fig.add_subplot()
        for y0, a, i in headers:
            ax.text(0.0, y0, f"{arm_label(arm_labels, a)} (n={len(groups[a])})", ha="left",
                    va="center", fontsize=FONT_SIZE, fontweight="bold", color=darken(arm_colour(i)),
                    gid=f"swimmer-header-{i + 1}")
        for j, (y0, lane) in enumerate(rows):
            i = arms.index(lane.arm)
            colour = arm_colour(i)
            ax.barh(y0, lane.end, height=BAR_HEIGHT, left=0.0, color=lighten(colour, 0.55),
                    edgecolor=colour, linewidth=0.6, zorder=2, gid=f"swimmer-lane-{j + 1}")
            _mark(ax, lane.courses, y0 - OFFSET, "course", f"swimmer-course-{j + 1}")
            for r in order:
                _mark(ax, [t for t, v in lane.responses if str(v).upper() == r], y0, r,
                      f"swimmer-{r.lower()}-{j + 1}", styles[r])
            _mark(ax, lane.relapses, y0, "relapse", f"swimmer-relapse-{j + 1}")
            _mark(ax, [t for t, rel in lane.saes if rel], y0 + OFFSET, "sae_related",
                  f"swimmer-sae-related-{j + 1}")
            _mark(ax, [t for t, rel in lane.saes if not rel], y0 + OFFSET, "sae_unrelated",
                  f"swimmer-sae-unrelated-{j + 1}")
            _mark(ax, [lane.end + END_GAP], y0,
                  "discontinued" if lane.discontinued else "completed",
                  f"swimmer-end-{j + 1}")

        ax.set_ylim(n_rows - 0.4, -0.6)
        ax.set_yticks([y0 for y0, _ in rows])
        ax.set_yticklabels(short_ids([lane.subject for _, lane in rows]),
                           fontsize=SMALL_FONT_SIZE)
        ax.tick_params(axis="y", length=0, pad=3)
        ax.spines["left"].set_visible(False)
        ax.set_xlim(-0.3, t_max + 0.45)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Patient")
        for t in ticks[1:]:
            ax.axvline(t, color="#E3E3E3", linewidth=0.6, zorder=0)
        if title:
            ax.set_title(title, loc="left")

        handles = [Patch(facecolor=lighten(arm_colour(i), 0.55), edgecolor=arm_colour(i),
                         linewidth=0.6, label=arm_label(arm_labels, a))
                   for i, a in enumerate(arms)]
        handles.append(Line2D([], [], linestyle="none", label=course_label,
                              **MARKERS["course"]))
        handles += [Line2D([], [], linestyle="none", label=str(label), **styles[str(c).upper()])
                    for c, label in levels.items()]
        handles += [Line2D([], [], linestyle="none", label=LEGEND_LABELS[k], **MARKERS[k])
                    for k in LEGEND_LABELS]
        fig.legend(handles=handles, loc="outside lower center", ncols=4, handletextpad=0.4,
                   columnspacing=1.2, borderaxespad=0.2)
        freeze_layout(fig)
    return fig


def swimmer_lanes(fig: Figure) -> int:
    """Number of patient lanes drawn (for checks)."""
    return sum(1 for p in fig.axes[0].patches if (p.get_gid() or "").startswith("swimmer-lane"))
