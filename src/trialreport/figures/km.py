"""Kaplan-Meier curves by arm with censor ticks, optional CI bands and a number-at-risk table.

Input: one :class:`KMCurve` per arm (estimates as step arrays plus the subjects' follow-up times,
all in the display time unit). :meth:`KMCurve.from_durations` fits the estimate with lifelines
(Greenwood variance, log(-log) CI) when only durations and event flags are at hand.
:func:`as_km_curves` also accepts

* the step table of ``trialreport.families.time_to_event.km_curves`` (columns ``group``,
  ``time``, ``surv``, ``lower``, ``upper``, ``events``, ``censored``; one block per arm), or
* per-subject rows (columns ``arm`` or ``group``, ``time``, ``event``), e.g. ``tte_frame``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator

from trialreport.figures.style import (
    A4_WIDTH_IN,
    FONT_SIZE,
    INK,
    TITLE_FONT_SIZE,
    arm_colour,
    arm_label,
    darken,
    freeze_layout,
    new_figure,
    style_context,
)


@dataclass(frozen=True, eq=False)
class KMCurve:
    """One arm's Kaplan-Meier estimate, in the display time unit.

    ``time``/``surv`` (and optional ``lower``/``upper``) describe a right-continuous step
    function starting at time 0; ``durations``/``observed`` are the subjects' times and event
    flags (True = event, False = censored), used for censor ticks and numbers at risk.
    """

    arm: str
    time: np.ndarray
    surv: np.ndarray
    durations: np.ndarray
    observed: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    @classmethod
    def from_durations(cls, arm: str, durations: Sequence[float], observed: Sequence[bool],
                       conf_level: float = 0.95) -> KMCurve:
        """Fit the Kaplan-Meier estimate (lifelines) from per-subject times and event flags."""
        from lifelines import KaplanMeierFitter

        d = np.asarray(durations, dtype=float)
        e = np.asarray(observed, dtype=bool)
        kmf = KaplanMeierFitter(alpha=1 - conf_level)
        kmf.fit(d, event_observed=e, timeline=np.unique(np.concatenate([[0.0], d])))
        ci = kmf.confidence_interval_survival_function_
        return cls(arm=str(arm), time=kmf.survival_function_.index.to_numpy(dtype=float),
                   surv=kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
                   lower=ci.iloc[:, 0].to_numpy(dtype=float),
                   upper=ci.iloc[:, 1].to_numpy(dtype=float), durations=d, observed=e)

    def at_risk(self, t: float) -> int:
        """Subjects still at risk just before time ``t`` (follow-up time >= ``t``)."""
        return int(np.sum(np.asarray(self.durations, dtype=float) >= t - 1e-9))

    def surv_at(self, t: float | np.ndarray) -> np.ndarray:
        """The step function's value at ``t`` (right-continuous)."""
        idx = np.searchsorted(np.asarray(self.time, dtype=float), t, side="right") - 1
        return np.asarray(self.surv, dtype=float)[np.clip(idx, 0, None)]

    @property
    def censor_times(self) -> np.ndarray:
        """Times of censored subjects."""
        return np.asarray(self.durations, dtype=float)[~np.asarray(self.observed, dtype=bool)]


def _from_step_table(arm: str, g: pd.DataFrame) -> KMCurve:
    """One arm of a lifelines-style event table: the subjects are recovered from the counts
    of events and censorings at each time."""
    g = g.sort_values("time", kind="stable")
    time = g["time"].to_numpy(dtype=float)
    events = g["events"].to_numpy(dtype=int)
    censored = g["censored"].to_numpy(dtype=int)
    durations = np.concatenate([np.repeat(time, events), np.repeat(time, censored)])
    observed = np.concatenate([np.ones(events.sum(), bool), np.zeros(censored.sum(), bool)])
    order = np.argsort(durations, kind="stable")
    surv = g["surv"].to_numpy(dtype=float)
    lower = g["lower"].to_numpy(dtype=float) if "lower" in g else None
    upper = g["upper"].to_numpy(dtype=float) if "upper" in g else None
    if time[0] > 0:
        time, surv = np.insert(time, 0, 0.0), np.insert(surv, 0, 1.0)
        lower = None if lower is None else np.insert(lower, 0, 1.0)
        upper = None if upper is None else np.insert(upper, 0, 1.0)
    return KMCurve(arm=arm, time=time, surv=surv, durations=durations[order],
                   observed=observed[order], lower=lower, upper=upper)


def as_km_curves(curves: Any, conf_level: float = 0.95) -> list[KMCurve]:
    """Accept a sequence/mapping of :class:`KMCurve` or per-subject rows (``arm, time, event``).

    Other objects are converted attribute by attribute (``arm``, ``time``, ``surv``,
    ``durations``/``observed``, ``lower``/``upper``) so that the analysis package's curve
    objects can be passed directly.
    """
    if isinstance(curves, pd.DataFrame) and {"surv", "events", "censored"} <= set(curves):
        return [_from_step_table(str(arm), g)
                for arm, g in curves.groupby("group", sort=False, observed=True)]
    if isinstance(curves, pd.DataFrame):
        cols = {c.lower(): c for c in curves.columns}
        arm_c = cols.get("arm") or cols.get("group")
        time_c = cols.get("time") or cols.get("duration")
        event_c = cols.get("event") or cols.get("observed")
        if not (arm_c and time_c and event_c):
            raise ValueError("per-subject KM data need columns arm, time, event")
        return [KMCurve.from_durations(str(arm), g[time_c].to_numpy(dtype=float),
                                       g[event_c].to_numpy(dtype=bool), conf_level)
                for arm, g in curves.groupby(arm_c, sort=False, observed=True)]
    items = list(curves.values()) if isinstance(curves, Mapping) else list(curves)
    keys = list(curves.keys()) if isinstance(curves, Mapping) else [None] * len(items)
    out = []
    for key, c in zip(keys, items, strict=True):
        if isinstance(c, KMCurve):
            out.append(c)
            continue

        def get(name: str, *alts: str, _c: Any = c) -> Any:
            for n in (name, *alts):
                if isinstance(_c, Mapping) and n in _c:
                    return _c[n]
                if hasattr(_c, n):
                    return getattr(_c, n)
            return None

        arm = get("arm", "code", "group") or key
        durations = get("durations", "duration")
        observed = get("observed", "events", "event")
        time, surv = get("time", "timeline"), get("surv", "survival")
        if time is None or surv is None:
            out.append(KMCurve.from_durations(str(arm), durations, observed, conf_level))
            continue
        lower, upper = get("lower", "surv_lower"), get("upper", "surv_upper")
        out.append(KMCurve(
            arm=str(arm), time=np.asarray(time, dtype=float), surv=np.asarray(surv, dtype=float),
            durations=np.asarray(durations, dtype=float), observed=np.asarray(observed, dtype=bool),
            lower=None if lower is None else np.asarray(lower, dtype=float),
            upper=None if upper is None else np.asarray(upper, dtype=float)))
    return out


def time_ticks(t_max: float, time_unit: str = "months") -> np.ndarray:
    """Tick positions: every 3 months (6 beyond 2 years), or ~6 even steps for other units."""
    if time_unit.lower().startswith("month"):
        step = 3.0 if t_max <= 24 else 6.0
    elif time_unit.lower().startswith("week"):
        step = 4.0 if t_max <= 52 else 13.0
    else:
        raw = t_max / 6
        mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
        step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    n = int(math.floor(t_max / step + 1e-9))
    return np.arange(n + 1) * step


def plot_km(curves: Any, arm_labels: Mapping[str, str] | None = None, title: str | None = None,
            time_unit: str = "months", *, ci: bool = True,
            xlabel: str | None = None, ylabel: str = "Proportion without event",
            ticks: Sequence[float] | None = None, width: float = A4_WIDTH_IN,
            height: float | None = None) -> Figure:
    """Kaplan-Meier step curves by arm with censor ticks, CI bands and numbers at risk.

    ``curves``: see :func:`as_km_curves` (times already in ``time_unit``); ``arm_labels``: arm
    code -> display label, also fixing the order. The number-at-risk table sits under the axis
    on the same x scale, one row per arm, with counts at the x ticks.
    """
    kms = as_km_curves(curves)
    if arm_labels:
        order = {code: i for i, code in enumerate(arm_labels)}
        kms.sort(key=lambda k: order.get(k.arm, len(order)))
    t_max = max(float(np.max(k.durations)) if len(k.durations) else float(np.max(k.time))
                for k in kms)
    tick_pos = np.asarray(ticks, dtype=float) if ticks is not None else time_ticks(t_max,
                                                                                 time_unit)
    x_max = max(t_max, float(tick_pos[-1])) + 0.03 * float(tick_pos[-1] or 1)
    n = len(kms)
    risk_h = 0.3 + 0.17 * n
    height = height or (2.9 + risk_h)

    with style_context():
        fig = new_figure(width, height, layout="constrained")
        gs = fig.add_gridspec(2, 1, height_ratios=[height - risk_h, risk_h], hspace=0.0)
        ax = fig.add_subplot(gs[0])
        risk = fig.add_subplot(gs[1], sharex=ax)
        handles = []
        for i, k in enumerate(kms):
            colour = arm_colour(i)
            label = arm_label(arm_labels, k.arm)
            time = np.asarray(k.time, dtype=float)
            surv = np.asarray(k.surv, dtype=float)
            end = float(np.max(k.durations)) if len(k.durations) else float(time[-1])
            if end > time[-1]:
                time, surv = np.append(time, end), np.append(surv, surv[-1])
            line, = ax.step(time, surv, where="post", color=colour, linewidth=1.4,
                            label=label, zorder=3, gid=f"km-curve-{i + 1}")
            handles.append(line)
            if ci and k.lower is not None and k.upper is not None:
                lower = np.asarray(k.lower, dtype=float)
                upper = np.asarray(k.upper, dtype=float)
                if len(lower) < len(time):
                    lower, upper = np.append(lower, lower[-1]), np.append(upper, upper[-1])
                ax.fill_between(time, np.nan_to_num(lower, nan=0.0),
                                np.nan_to_num(upper, nan=1.0), step="post", color=colour,
                                alpha=0.12, linewidth=0, zorder=1)
            ct = k.censor_times
            if len(ct):
                ax.plot(ct, k.surv_at(ct), linestyle="none", marker="|", markersize=7,
                        markeredgewidth=1.1, color=colour, zorder=4,
                        gid=f"km-censor-{i + 1}")
        handles.append(Line2D([], [], linestyle="none", marker="|", markersize=7,
                              markeredgewidth=1.1, color=INK, label="Censored"))
        if ci and any(k.lower is not None for k in kms):
            from matplotlib.patches import Patch
            handles.append(Patch(facecolor=INK, alpha=0.12, linewidth=0, label="95% CI"))
        # Legend in a row above the plot area: it can never hide a curve.
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
                  ncols=min(len(handles), 5), borderaxespad=0.0, handletextpad=0.5,
                  columnspacing=1.4)
        ax.set_ylim(0, 1.03)
        ax.yaxis.set_major_locator(MultipleLocator(0.2))
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, x_max)
        ax.set_xticks(tick_pos)
        ax.set_xticklabels([f"{t:g}" for t in tick_pos])
        ax.set_xlabel(xlabel or f"Time ({time_unit})")
        ax.grid(axis="y", color="#E6E6E6", linewidth=0.5, zorder=0)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=TITLE_FONT_SIZE,
                         fontweight="bold")

        # Number-at-risk table, one row per arm, counts at the x ticks.
        risk.set_ylim(n - 0.5, -0.5)
        risk.set_yticks(range(n))
        risk.set_yticklabels([arm_label(arm_labels, k.arm) for k in kms])
        for i, lab in enumerate(risk.get_yticklabels()):
            lab.set_color(darken(arm_colour(i)))
            lab.set_fontweight("bold")
        widest = max(len(str(k.at_risk(0.0))) for k in kms)
        risk.tick_params(axis="y", length=0, pad=4 + 0.35 * FONT_SIZE * widest)
        risk.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
        for spine in risk.spines.values():
            spine.set_visible(False)
        for i, k in enumerate(kms):
            for t in tick_pos:
                risk.text(t, i, str(k.at_risk(float(t))), ha="center", va="center",
                          fontsize=FONT_SIZE, gid=f"km-atrisk-{i + 1}-{t:g}")
        risk.set_title("Number at risk", loc="left", fontsize=FONT_SIZE, fontweight="bold",
                       pad=3)
        freeze_layout(fig)
    return fig


def at_risk_table(fig: Figure) -> dict[str, list[int]]:
    """Numbers at risk as drawn, by arm label (row order), for checks."""
    risk = fig.axes[1]
    labels = [t.get_text() for t in risk.get_yticklabels()]
    rows: dict[str, list[tuple[float, int]]] = {lab: [] for lab in labels}
    for t in risk.texts:
        x, y = t.get_position()
        rows[labels[round(y)]].append((x, int(t.get_text())))
    return {lab: [n for _, n in sorted(v)] for lab, v in rows.items()}
