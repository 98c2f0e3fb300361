"""Time-to-event endpoints: Kaplan-Meier estimates by arm, landmarks and the log-rank test.

Each entry of ``time_to_event:`` names an ADTTE-style dataset and ``paramcd``; the analysis set
is the population's subjects with a record of that parameter (and, with ``subset``, only the
responders of a binary endpoint, e.g. six-month responders: the table then shows their own N).
Times (``AVAL`` in ``time_unit``) are converted to ``display_unit`` (days / 30.4375 for months);
``CNSR`` = 0 is an event. With ``origin`` (a landmark), time is counted from the landmark and
only subjects still at risk then are analysed, so no time before it counts as event-free
(no immortal time).

Estimates use :class:`lifelines.KaplanMeierFitter`: survival with Greenwood variance and the
log(-log) confidence interval. The median is the smallest time at which the estimate is at most
0.5; its CI limits are where the pointwise CI limits first reach 0.5 (Brookmeyer-Crowley with
the log(-log) transform).

References: Kaplan EL, Meier P (1958). J Am Stat Assoc 53:457-481. Brookmeyer R, Crowley J
(1982). Biometrics 38:29-41. Mantel N (1966). Cancer Chemother Rep 50:163-170 (log-rank test).
Anderson JR, Cain KC, Gelber RD (1983). J Clin Oncol 1:710-719 (landmark analysis).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from great_tables import GT
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from pydantic import BaseModel, ConfigDict

from trialreport import formatting as F
from trialreport.analysis_sets import ARM, as_text, population_adsl
from trialreport.ard._frame import concat_frames, stack_statistics
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.study._model import TimeToEvent
from trialreport.tables._layout import (
    COMPARISON,
    Column,
    Lookup,
    Row,
    big_n,
    count_text,
    csr_table,
    group_columns,
    n_over_n_text,
    pvalue_text,
)

__all__ = ["DAYS_PER_UNIT", "TteOptions", "display_unit", "event_name", "km_curves", "km_fit",
           "quantile_time", "subset_label", "tte_frame"]

PROGRAM = "trialreport.families.time_to_event"
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}
MEDIAN_METHOD = "median time with Brookmeyer-Crowley CI (log(-log) transform)"
SURV_METHOD = "Kaplan-Meier estimates with Greenwood CI (log(-log) transform)"
LOGRANK = "Log-rank test (two-sided)"
#: Decimals of medians (display unit) and of landmark percentages.
DECIMALS = 1

_EVENT_FROM_LABEL = re.compile(
    r"\btime to (?:the )?(?:first )?([a-z][a-z -]*?)\b(?: among| in| by| from| after|,|$)",
    re.IGNORECASE)


class TteOptions(BaseModel):
    """``param``: the ``time_to_event`` id (or PARAMCD) shown."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    param: str


def display_unit(spec: TimeToEvent) -> str:
    """Unit times are shown in (``display_unit``, default the stored unit)."""
    return spec.display_unit or spec.time_unit


def event_name(spec: TimeToEvent) -> str:
    """The event's name: ``event_label``, else parsed from "Time to first relapse ..."
    ("relapse"); "" when neither gives one."""
    if spec.event_label:
        return spec.event_label
    match = _EVENT_FROM_LABEL.search(spec.label)
    return match.group(1).strip().lower() if match else ""


def subset_label(study: Study, spec: TimeToEvent) -> str | None:
    """How the analysed sub-population is named ("responders at month 6"), if any."""
    if spec.subset is None:
        return None
    return spec.subset_label or f"responders ({study.endpoint(spec.subset).label.lower()})"


def _factor(spec: TimeToEvent) -> float:
    """Divide stored times by this to get display units."""
    return DAYS_PER_UNIT[display_unit(spec)] / DAYS_PER_UNIT[spec.time_unit]


def _origin(spec: TimeToEvent) -> float:
    """The landmark in display units (0 without ``origin``)."""
    if spec.origin is None:
        return 0.0
    return spec.origin.time * DAYS_PER_UNIT[spec.origin.unit] / DAYS_PER_UNIT[display_unit(spec)]


def tte_frame(data: TrialData, spec: TimeToEvent | str) -> pd.DataFrame:
    """Analysis records: ``subject``, ``arm``, ``time`` (display unit, from the origin),
    ``event`` (bool)."""
    study = data.study
    if isinstance(spec, str):
        spec = study.tte(spec)
    subject = study.model.subject_variable
    pop = population_adsl(data, spec.population)[[subject, ARM]]
    if spec.subset is not None:
        from trialreport.families.binary import responder_flags

        flags = responder_flags(data, spec.subset)
        pop = pop[pop[subject].isin(flags.loc[flags["responder"], "subject"])]
    ds = data[spec.dataset]
    ds = ds.loc[as_text(ds[spec.param_variable]).eq(spec.paramcd).to_numpy(dtype=bool)]
    merged = pop.merge(ds[[subject, spec.time_variable, spec.censor_variable]], on=subject,
                       how="inner", sort=False)
    time = pd.to_numeric(merged[spec.time_variable], errors="raise").astype(float).to_numpy() \
        / _factor(spec)
    event = pd.to_numeric(merged[spec.censor_variable], errors="raise").astype(float) \
        .to_numpy() == 0
    origin = _origin(spec)
    at_risk = time > origin if origin > 0 else np.ones(len(time), dtype=bool)
    return pd.DataFrame({
        "subject": merged[subject].to_numpy()[at_risk],
        "arm": pd.Categorical(merged[ARM].astype(object).to_numpy()[at_risk],
                              categories=study.arm_codes),
        "time": time[at_risk] - origin,
        "event": event[at_risk],
    })


def km_fit(time: np.ndarray, event: np.ndarray, conf: float = 0.95) -> KaplanMeierFitter | None:
    """Fitted Kaplan-Meier estimator (``None`` for an empty group)."""
    if len(time) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KaplanMeierFitter(alpha=1.0 - conf).fit(time, event)


def _finite(x: float) -> float:
    x = float(x)
    return x if np.isfinite(x) else np.nan


def quantile_time(curve: pd.Series, q: float = 0.5, tol: float = 1e-9) -> float:
    """Smallest time ``t`` with ``curve(t) <= q`` (NaN if never reached).

    ``tol`` absorbs floating-point error: lifelines multiplies through logs, so a product-limit
    estimate of exactly 1/2 can come out as 0.5000000000000001 and would otherwise leave the
    median "not reached" (``lifelines`` ``median_survival_time_`` has this flaw).
    """
    values = curve.to_numpy(dtype=float)
    hit = np.flatnonzero(values <= q + tol)
    return float(curve.index[hit[0]]) if len(hit) else np.nan


def _at(kmf: KaplanMeierFitter, t: float, last: float) -> tuple[float, float, float]:
    """Survival and CI at time ``t``; NaN beyond the last follow-up time. The CI is NaN where
    the estimate is 1 or 0 (the log(-log) interval is undefined there)."""
    if t > last:
        return np.nan, np.nan, np.nan
    sf = kmf.survival_function_.iloc[:, 0]
    pos = int(np.searchsorted(sf.index.to_numpy(dtype=float), t, side="right")) - 1
    surv = float(sf.iloc[pos])
    if surv in (0.0, 1.0):
        return surv, np.nan, np.nan
    ci = kmf.confidence_interval_.iloc[pos]
    return surv, float(ci.iloc[0]), float(ci.iloc[1])


def _group_stats(kmf: KaplanMeierFitter | None, time: np.ndarray, event: np.ndarray,
                 landmarks: Sequence[float]) -> dict[str, float]:
    out = {"n": float(len(time)), "events": float(event.sum()),
           "censored": float(len(time) - event.sum()),
           "median": np.nan, "median_lower": np.nan, "median_upper": np.nan}
    for lm in landmarks:
        out.update({f"surv@{lm}": np.nan, f"surv_lower@{lm}": np.nan,
                    f"surv_upper@{lm}": np.nan})
    if kmf is None:
        return out
    ci = kmf.confidence_interval_
    out["median"] = quantile_time(kmf.survival_function_.iloc[:, 0])
    out["median_lower"] = quantile_time(ci.iloc[:, 0])
    out["median_upper"] = quantile_time(ci.iloc[:, 1])
    last = float(time.max())
    for lm in landmarks:
        s, lo, hi = _at(kmf, float(lm), last)
        out[f"surv@{lm}"], out[f"surv_lower@{lm}"], out[f"surv_upper@{lm}"] = s, lo, hi
    return out


def _logrank(frame: pd.DataFrame, groups: Sequence[str]) -> float:
    """Two-sided log-rank p-value across ``groups`` (NaN with < 2 non-empty groups or no
    events)."""
    sub = frame[frame["arm"].isin(groups)]
    present = [g for g in groups if (sub["arm"] == g).any()]
    if len(present) < 2 or not sub["event"].any():
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(present) == 2:
            a, b = (sub[sub["arm"] == g] for g in present)
            res = logrank_test(a["time"], b["time"], a["event"], b["event"])
        else:
            res = multivariate_logrank_test(sub["time"], sub["arm"].astype(str), sub["event"])
    return _finite(res.p_value)


def _category(x: float) -> str:
    """Landmark as ARD category: "6" for 6.0, "1.5" for 1.5."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _param(study: Study, spec: OutputSpec) -> TimeToEvent:
    return study.tte(spec.options.param)  # type: ignore[attr-defined]


def _check(study: Study, spec: OutputSpec) -> list[str]:
    try:
        _param(study, spec)
    except KeyError as exc:
        return [f"param: {exc.args[0]}"]
    return []


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    param = _param(study, spec)
    roles = ["adsl", param.dataset]
    if param.subset is not None:
        roles.append(study.endpoint(param.subset).dataset)
    return list(dict.fromkeys(roles))


def compute(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """ARD rows of one time-to-event parameter (variable = its id).

    Per arm and total: ``n``, ``events``, ``censored``, ``median``, ``median_lower``,
    ``median_upper`` (display unit from the origin; NaN = not reached / not estimable); per
    landmark (category = time from the origin): ``surv``, ``surv_lower``, ``surv_upper`` (0-1).
    Per declared comparison the log-rank ``pvalue`` of the two arms; without comparisons, one
    across all arms (group ``comparison``). The output's N is the analysed subjects.
    """
    study = data.study
    param = _param(study, spec)
    key = output_key(spec, param.population)
    conf = study.conf_level(param)
    frame = tte_frame(data, param)
    arms = study.arm_codes
    rows = []
    for g in [*arms, study.total_label]:
        sub = frame if g == study.total_label else frame[frame["arm"] == g]
        t, e = sub["time"].to_numpy(), sub["event"].to_numpy()
        rows.append({"group": g, **_group_stats(km_fit(t, e, conf), t, e, param.landmarks)})
    wide = pd.DataFrame(rows)
    const = {**key, "variable": param.id}
    counts = dict(zip(wide["group"], wide["n"].astype(int), strict=True))
    frames = [bign_rows(key, counts),
              stack_statistics(wide, ["n", "events", "censored", "median", "median_lower",
                                      "median_upper"],
                               methods=dict.fromkeys(("median", "median_lower",
                                                      "median_upper"), MEDIAN_METHOD), **const)]
    for lm in param.landmarks:
        part = wide[["group", f"surv@{lm}", f"surv_lower@{lm}", f"surv_upper@{lm}"]].copy()
        part.columns = ["group", "surv", "surv_lower", "surv_upper"]
        part["category"] = _category(lm)
        frames.append(stack_statistics(part, ["surv", "surv_lower", "surv_upper"],
                                       methods=dict.fromkeys(
                                           ("surv", "surv_lower", "surv_upper"), SURV_METHOD),
                                       **const))
    pairs = [(study.comparison_group(c), [c.treatment, c.reference])
             for c in study.comparisons] or [(COMPARISON, arms)]
    frames.append(stack_statistics(
        pd.DataFrame({"group": [g for g, _ in pairs],
                      "pvalue": [_logrank(frame, arms_) for _, arms_ in pairs]}),
        ["pvalue"], methods={"pvalue": LOGRANK}, **const))
    return concat_frames(frames)


def _estimate_ci(est: Any, lo: float, hi: float, scale: int = 1) -> str:
    """``"9.3 (6.1, NE)"``; NaN components are "not estimable"."""
    estimate = F.fmt_number(est, DECIMALS, na=F.NE, scale=scale)
    return f"{estimate} {F.fmt_ci(lo, hi, DECIMALS, scale=scale)}"


def _landmarks(look: Lookup, var: str) -> list[str]:
    def key(c: str) -> tuple[float, str]:
        try:
            return (float(c), c)
        except ValueError:
            return (math.inf, c)

    return sorted(look.categories(var), key=key)


def _from(param: TimeToEvent) -> str:
    """" from month 6" for a landmark analysis ("" otherwise)."""
    if param.origin is None:
        return ""
    label = param.origin.label or f"{F.fmt_number(param.origin.time, 0)} {param.origin.unit}"
    return f" from {label}"


@register("time_to_event", "table", options=TteOptions, compute=compute, datasets=_datasets,
          check=_check)
def tte_table(ctx: OutputContext) -> GT:
    """Kaplan-Meier summary by arm: events, median time, landmark estimates, log-rank test."""
    study, spec = ctx.study, ctx.spec
    param = _param(study, spec)
    look = Lookup(ctx.ard, spec.name)
    ns = big_n(ctx.ard, spec.name)
    groups = group_columns(study, ns)
    colmap = {code: col.id for code, col in groups}
    columns = [col for _, col in groups]
    pairs = [(study.comparison_group(c), study.comparison_label(c), f"p{i}")
             for i, c in enumerate(study.comparisons, start=1)
             if look.has(study.comparison_group(c), param.id, "pvalue")]
    if not pairs and look.has(COMPARISON, param.id, "pvalue"):
        pairs = [(COMPARISON, "", "p0")]
    for _, label, cid in pairs:
        columns.append(Column(cid, f"Log-rank p-value\n{label}".strip()))
    var, unit, event = param.id, display_unit(param), event_name(param)
    ci = study.conf_label(param)
    since = _from(param)
    rows = [Row("Patients analysed, n", {c: count_text(look.get(g, var, "n"))
                                        for g, c in colmap.items()})]
    cells = {c: n_over_n_text(look.get(g, var, "events"), look.get(g, var, "n"))
             for g, c in colmap.items()}
    for group, _, cid in pairs:
        cells[cid] = pvalue_text(look.get(group, var, "pvalue"))
    rows.append(Row(f"Patients with {event or 'an event'}, n/N (%)", cells))
    rows.append(Row("Censored, n", {c: count_text(look.get(g, var, "censored"))
                                    for g, c in colmap.items()}))
    median = {c: _estimate_ci(look.get(g, var, "median"), look.get(g, var, "median_lower"),
                              look.get(g, var, "median_upper")) if look.has(g, var, "median")
              else "" for g, c in colmap.items()}
    what = f"Median time to {event}" if event else "Median time to event"
    rows.append(Row(f"{what}{since}, {unit} ({ci})", median))
    for cat in _landmarks(look, var):
        surv = {c: _estimate_ci(look.get(g, var, "surv", cat), look.get(g, var, "surv_lower", cat),
                                look.get(g, var, "surv_upper", cat), scale=100)
                if look.has(g, var, "surv", cat) else "" for g, c in colmap.items()}
        free = f"Free of {event}" if event else "Event-free"
        rows.append(Row(f"{free} {cat} {unit}{since}, % ({ci})", surv))
    notes = [f"Kaplan-Meier estimates with {ci} (Greenwood variance, log(-log) transform); "
             "median CI by Brookmeyer-Crowley. Patients without an event are censored at "
             "their last assessment. P-value: log-rank test, two-sided."]
    if param.origin is not None:
        notes.append(f"Landmark analysis: time is counted{since}; only patients still at risk "
                     "then are analysed.")
    return csr_table(rows, columns, ctx, program=PROGRAM, stub_label=param.label,
                     subset=subset_label(study, param), notes=notes)


def km_curves(data: TrialData, param: str) -> pd.DataFrame:
    """Kaplan-Meier step curves for plotting, one block of rows per arm: ``group``, ``label``,
    ``time`` (display unit from the origin), ``surv``, ``lower``, ``upper``, ``at_risk``,
    ``events``, ``censored``."""
    study = data.study
    spec = study.tte(param)
    frame = tte_frame(data, spec)
    parts = []
    for g in study.arm_codes:
        sub = frame[frame["arm"] == g]
        kmf = km_fit(sub["time"].to_numpy(), sub["event"].to_numpy(), study.conf_level(spec))
        if kmf is None:
            continue
        et = kmf.event_table
        ci = kmf.confidence_interval_
        parts.append(pd.DataFrame({
            "group": g, "label": study.arm_label(g),
            "time": et.index.to_numpy(dtype=float),
            "surv": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(), "upper": ci.iloc[:, 1].to_numpy(),
            "at_risk": et["at_risk"].to_numpy(), "events": et["observed"].to_numpy(),
            "censored": et["censored"].to_numpy(),
        }))
    if not parts:
        return pd.DataFrame(columns=["group", "label", "time", "surv", "lower", "upper",
                                     "at_risk", "events", "censored"])
    return pd.concat(parts, ignore_index=True)


class KmOptions(TteOptions):
    """``param`` as for the table; ``ci``: draw confidence bands (default true);
    ``xlabel``/``ylabel``: axis labels (default from the parameter's unit and event)."""

    ci: bool = True
    xlabel: str | None = None
    ylabel: str | None = None


def _km_subset(study: Study, spec: OutputSpec) -> str | None:
    return subset_label(study, _param(study, spec))


@register("km", "figure", options=KmOptions, compute=compute, datasets=_datasets, check=_check,
          subset=_km_subset)
def km_figure(ctx: OutputContext) -> Any:
    """Kaplan-Meier curves by arm with censoring marks and numbers at risk."""
    from trialreport.figures.km import plot_km

    if ctx.data is None:
        raise ValueError(f"figure {ctx.spec.name!r} is drawn from the records: pass the data")
    param = _param(ctx.study, ctx.spec)
    opts = ctx.spec.options
    unit, event = display_unit(param), event_name(param)
    since = _from(param)
    ylabel = opts.ylabel or (f"Proportion free of {event}" if event  # type: ignore
                             else "Proportion without event")
    return plot_km(km_curves(ctx.data, param.id), ctx.study.arm_labels, time_unit=unit,
                   ci=opts.ci,  # type: ignore[attr-defined]
                   xlabel=opts.xlabel or f"Time{since} ({unit})",  # type: ignore
                   ylabel=ylabel)
