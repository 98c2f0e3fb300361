"""Report figures: CONSORT flow diagram, Kaplan-Meier curves and swimmer plot.

The ``plot_*`` functions take plain data structures (see each module) and return a
:class:`matplotlib.figure.Figure` in the shared report style; :func:`save_figure` writes SVG,
PNG and PDF deterministically. Chapters call the one-liners :func:`consort_figure`,
:func:`km_figure` and :func:`swimmer_figure`, which compute their inputs with
:mod:`trialreport.analysis`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialreport.figures.consort import ConsortArm, ConsortCounts, as_consort_counts, plot_consort
from trialreport.figures.km import KMCurve, as_km_curves, plot_km
from trialreport.figures.save import save_figure
from trialreport.figures.style import A4_WIDTH_IN, ARM_COLOURS, style_context
from trialreport.figures.swimmer import Lane, as_lanes, plot_swimmer

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from trialreport.data import TrialData
    from trialreport.study import Study

__all__ = [
    "A4_WIDTH_IN",
    "ARM_COLOURS",
    "ConsortArm",
    "ConsortCounts",
    "KMCurve",
    "Lane",
    "arm_labels",
    "as_consort_counts",
    "as_km_curves",
    "as_lanes",
    "consort_figure",
    "km_figure",
    "plot_consort",
    "plot_km",
    "plot_swimmer",
    "save_figure",
    "style_context",
    "swimmer_figure",
    "FIGURE_TYPES",
    "build_figure",
]


def arm_labels(study: Study) -> dict[str, str]:
    """Arm code -> display label, in the study's display order."""
    return study.arm_labels


def consort_figure(data: TrialData) -> Figure:
    """CONSORT 2010 flow diagram of a trial (counts from :mod:`trialreport.analysis.consort`)."""
    from trialreport.analysis.consort import consort_flow

    return plot_consort(consort_flow(data), arm_labels(data.study))


def km_figure(data: TrialData, param: str | None = None, *, ci: bool = True) -> Figure:
    """Kaplan-Meier figure of a time-to-event endpoint by arm (the first one by default).

    Axis labels come from the endpoint's definition: optional keys ``xlabel``/``ylabel``, else
    "Time (<display unit>)" and "Proportion free of <event>" from a "Time to first <event> ..."
    label.
    """
    from trialreport.analysis.time_to_event import display_unit, event_name, km_curves, tte_param

    specs = data.study.section("time_to_event") or []
    if not specs:
        raise ValueError("the study definition has no time_to_event: endpoints")
    spec: dict[str, Any] = tte_param(data, param) if param else dict(specs[0])
    unit = display_unit(spec)
    event = event_name(spec)
    ylabel = spec.get("ylabel") or (f"Proportion free of {event}" if event
                                    else "Proportion without event")
    curves = km_curves(data, str(spec.get("id", spec.get("paramcd"))))
    return plot_km(curves, arm_labels(data.study), time_unit=unit, ci=ci,
                   xlabel=spec.get("xlabel") or f"Time ({unit})", ylabel=ylabel)


def swimmer_figure(data: TrialData) -> Figure:
    """Swimmer plot of every treated patient (lanes from :mod:`trialreport.analysis.swimmer`)."""
    from trialreport.analysis.swimmer import swimmer_data

    sd = swimmer_data(data)
    if sd is None:
        raise ValueError("the study definition has no swimmer: section")
    related = ((data.study.section("safety") or {}).get("related") or {}).get("value",
                                                                              "RELATED")
    months = sd.horizon_months if sd.horizon_months == sd.horizon_months else 12.0
    settings = data.study.section("swimmer") or {}
    levels = (settings.get("response") or {}).get("levels")
    course = (settings.get("exposure") or {}).get("label", "Treatment course")
    return plot_swimmer(sd, arm_labels(data.study), months=float(months),
                        related_values=(str(related),), responses=levels,
                        course_label=str(course))


#: Figure makers by the ``type`` of an ``outputs.figures`` entry of the study definition.
FIGURE_TYPES = {"consort": consort_figure, "km": km_figure, "swimmer": swimmer_figure}


def build_figure(data: TrialData, name: str) -> Figure:
    """The numbered figure ``name`` of the study definition (by its ``type`` and ``param``)."""
    spec = data.study.output(name)
    try:
        maker = FIGURE_TYPES[spec.type]
    except KeyError:
        raise ValueError(f"figure {name!r}: type must be one of {sorted(FIGURE_TYPES)}, "
                         f"not {spec.type!r}") from None
    return maker(data, spec.param) if spec.type == "km" else maker(data)
