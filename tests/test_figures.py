"""Figures: CONSORT diagram, Kaplan-Meier curves, swimmer plot, deterministic saving."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from conftest import DATA, SPEC, STUDY_FILE, synthetic_study
from trialreport.data import TrialData, load_trial
from trialreport.figures import (
    A4_WIDTH_IN,
    ConsortArm,
    ConsortCounts,
    KMCurve,
    Lane,
    as_consort_counts,
    plot_consort,
    plot_km,
    plot_swimmer,
    save_figure,
)
from trialreport.figures.consort import consort_boxes, reason_label
from trialreport.figures.km import at_risk_table, time_ticks
from trialreport.figures.swimmer import short_ids, swimmer_lanes

MONTH = 30.4375
MIN_FONT = 7.5


# ------------------------------------------------------------------------------------------
# independent inputs computed straight from the datasets (no analysis package)


@pytest.fixture(scope="module")
def trial() -> TrialData:
    return load_trial(DATA, SPEC, STUDY_FILE)


def _figure(t: TrialData, name: str) -> Figure:
    """Output ``name`` of the study definition, built as the report builds it."""
    from trialreport.ard import build_ard
    from trialreport.tables import build_output

    return build_output(t.study, name, build_ard(t), t)


@pytest.fixture(scope="module")
def labels(trial: TrialData) -> dict[str, str]:
    return trial.study.arm_labels


def _counts(reasons: pd.Series) -> tuple[tuple[str, int], ...]:
    vc = reasons.astype(object).value_counts()
    return tuple(sorted(((str(k), int(v)) for k, v in vc.items()), key=lambda kv: (-kv[1], kv[0])))


def _consort_from_data(t: TrialData) -> ConsortCounts:
    scr, adsl = t["screening"], t.adsl
    excl = scr[scr["RANDFL"] != "Y"]
    rand = adsl[adsl["RANDFL"] == "Y"]
    arms = []
    for a in t.study.arms:
        g = rand[rand["TRT01P"] == a.code]
        treated = g["SAFFL"] == "Y"
        dc = g[treated & (g["EOSSTT"] == "DISCONTINUED")]
        fas = g["FASFL"] == "Y"
        arms.append(ConsortArm(
            code=a.code, allocated=len(g), received=int(treated.sum()),
            not_received=int((~treated).sum()), discontinued=len(dc),
            completed=int((treated & (g["EOSSTT"] == "COMPLETED")).sum()),
            analysed=int(fas.sum()), excluded_from_analysis=int((~fas).sum()),
            not_received_reasons=_counts(g.loc[~treated, "DCSREAS"]),
            discontinued_reasons=_counts(dc["DCSREAS"]),
            excluded_from_analysis_reasons=(("Did not receive alemtuzumab",
                                             int((~fas).sum())),) if (~fas).any() else ()))
    return ConsortCounts(assessed=len(scr), excluded=len(excl), randomised=len(rand),
                         arms=tuple(arms), excluded_reasons=_counts(excl["EXCLREAS"]))


def _three_arm_flow() -> ConsortCounts:
    arms = tuple(
        ConsortArm(code=code, allocated=20, received=18, not_received=2, discontinued=3,
                   completed=15, analysed=19, excluded_from_analysis=1,
                   not_received_reasons=(("Withdrew consent before first dose", 1),
                                         ("Ineligible after randomisation", 1)),
                   discontinued_reasons=(("ADVERSE EVENT", 2), ("LOST TO FOLLOW-UP", 1)),
                   excluded_from_analysis_reasons=(("No post-baseline assessment", 1),))
        for code in ("PBO", "LOW", "HIGH"))
    return ConsortCounts(assessed=81, excluded=21, randomised=60, arms=arms,
                         excluded_reasons=(("NOT MEETING INCLUSION CRITERIA", 12),
                                           ("DECLINED TO PARTICIPATE", 6),
                                           ("OTHER REASONS", 3)))


THREE_ARM_LABELS = {"PBO": "Placebo", "LOW": "Alemtuzumab 30 mg", "HIGH": "Alemtuzumab 60 mg"}


LANDMARK = 6  # months: time to relapse is counted from month 6 (the study definition's origin)


def _km_from_data(t: TrialData) -> list[KMCurve]:
    tte = t["adtte"].merge(t.adsl[["USUBJID", "TRT01P", "FASFL"]], on="USUBJID")
    tte = tte[(tte["PARAMCD"] == "TTRELAPS") & (tte["FASFL"] == "Y")]
    tte = tte.assign(M=tte["AVAL"].astype(float) / MONTH - LANDMARK)
    tte = tte[tte["M"] > 0]
    return [KMCurve.from_durations(a.code, tte.loc[tte["TRT01P"] == a.code, "M"],
                                   tte.loc[tte["TRT01P"] == a.code, "CNSR"] == 0)
            for a in t.study.arms]


def _lanes_from_data(t: TrialData) -> list[Lane]:
    adsl = t.adsl[t.adsl["SAFFL"] == "Y"]
    eff, ex, ae = t["adeff"], t["adex"], t["adae"]
    lanes = []
    for r in adsl.itertuples():
        e = eff[eff["USUBJID"] == r.USUBJID]
        resp = e[e["PARAMCD"] == "RESP"]
        rel = e[(e["PARAMCD"] == "RELAPSE") & (e["AVALC"] == "Y")]
        sae = ae[(ae["USUBJID"] == r.USUBJID) & (ae["AESER"] == "Y")]
        lanes.append(Lane(
            subject=r.USUBJID, arm=r.TRT01A, end=((r.EOSDT - r.TRTSDT).days + 1) / MONTH,
            discontinued=r.EOSSTT == "DISCONTINUED",
            courses=tuple(ex.loc[ex["USUBJID"] == r.USUBJID, "ASTDY"].astype(float) / MONTH),
            responses=tuple(zip(resp["ADY"].astype(float) / MONTH, resp["AVALC"], strict=True)),
            relapses=tuple(((rel["EVNTDT"] - r.TRTSDT).dt.days + 1) / MONTH),
            saes=tuple(zip(sae["ASTDY"].astype(float) / MONTH, sae["AEREL"] == "RELATED",
                           strict=True))))
    return lanes


# ------------------------------------------------------------------------------------------
# helpers


def _texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def _all_text(fig: Figure) -> str:
    return " | ".join(" ".join(t.get_text().split()) for t in _texts(fig))


def _check_readable(fig: Figure) -> None:
    assert fig.get_size_inches()[0] <= A4_WIDTH_IN + 1e-9
    small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig)
             if t.get_fontsize() < MIN_FONT - 1e-9]
    assert not small, small


def _check_layout(fig: Figure) -> None:
    """No two boxes intersect; every text lies inside a box; nothing leaves the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [p.get_window_extent(renderer) for p in consort_boxes(fig)]
    assert boxes
    tol = 0.5  # pixels
    for a, b in itertools.combinations(boxes, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= tol or overlap_h <= tol, (a, b)
    fig_bb = fig.bbox
    for box in boxes:
        assert box.x0 >= fig_bb.x0 - tol and box.x1 <= fig_bb.x1 + tol
        assert box.y0 >= fig_bb.y0 - tol and box.y1 <= fig_bb.y1 + tol
    for text in _texts(fig):
        bb = text.get_window_extent(renderer)
        inside = [b for b in boxes if b.x0 - tol <= bb.x0 and bb.x1 <= b.x1 + tol
                  and b.y0 - tol <= bb.y0 and bb.y1 <= b.y1 + tol]
        assert inside, f"text outside every box: {text.get_text()!r}"


# ------------------------------------------------------------------------------------------
# CONSORT


def test_consort_shows_every_count(trial: TrialData, labels: dict[str, str]) -> None:
    flow = _consort_from_data(trial)
    text = _all_text(plot_consort(flow, labels))
    expected = [f"Assessed for eligibility (n={flow.assessed})", f"Excluded (n={flow.excluded})",
                f"Randomised (n={flow.randomised})"]
    expected += [f"{reason_label(r)} (n={n})" for r, n in flow.excluded_reasons]
    for arm in flow.arms:
        expected += [f"Allocated to {labels[arm.code]} (n={arm.allocated})",
                     f"Received allocated intervention (n={arm.received})",
                     f"Did not receive allocated intervention (n={arm.not_received})",
                     f"Discontinued (n={arm.discontinued})",
                     f"Completed follow-up (n={arm.completed})",
                     f"Analysed (n={arm.analysed})",
                     f"Excluded from analysis (n={arm.excluded_from_analysis})"]
        for reasons in (arm.not_received_reasons, arm.discontinued_reasons,
                        arm.excluded_from_analysis_reasons):
            expected += [f"{reason_label(r)} (n={n})" for r, n in reasons]
    missing = [e for e in expected if e not in text]
    assert not missing, missing
    # ALEVIATE as published: 31 assessed, 7 excluded, 24 randomised, 23 treated.
    for s in ("Assessed for eligibility (n=31)", "Excluded (n=7)",
              "Not meeting inclusion criteria (n=4)", "Declined to participate (n=2)",
              "Other reasons (n=1)", "Randomised (n=24)", "Allocated to 60 mg (n=12)",
              "Allocated to 30 mg (n=12)"):
        assert s in text
    assert sum(a.received for a in flow.arms) == 23


def test_consort_counts_conserved(trial: TrialData) -> None:
    flow = _consort_from_data(trial)
    assert flow.problems() == []
    assert flow.assessed == flow.excluded + flow.randomised
    assert flow.randomised == sum(a.allocated for a in flow.arms)
    for a in flow.arms:
        assert a.allocated == a.received + a.not_received
        assert a.received == a.completed + a.discontinued
        assert a.allocated == a.analysed + a.excluded_from_analysis
        assert a.not_received == sum(n for _, n in a.not_received_reasons)
    broken = ConsortCounts(assessed=30, excluded=7, randomised=24, arms=flow.arms,
                           excluded_reasons=flow.excluded_reasons)
    assert broken.problems()


@pytest.mark.parametrize("case", ["aleviate", "three_arms", "no_screening", "narrow"])
def test_consort_layout(case: str, trial: TrialData, labels: dict[str, str]) -> None:
    flow, arm_labels, kwargs = _consort_from_data(trial), labels, {}
    if case == "three_arms":
        flow, arm_labels = _three_arm_flow(), THREE_ARM_LABELS
    elif case == "no_screening":
        flow = ConsortCounts(assessed=None, excluded=None, randomised=flow.randomised,
                             arms=flow.arms)
    elif case == "narrow":
        kwargs = {"width": 4.0}
    fig = plot_consort(flow, arm_labels, **kwargs)
    _check_readable(fig)
    _check_layout(fig)


def test_consort_three_arms(trial: TrialData) -> None:
    flow = _three_arm_flow()
    assert flow.problems() == []
    fig = plot_consort(flow, THREE_ARM_LABELS)
    text = _all_text(fig)
    for label in THREE_ARM_LABELS.values():
        assert f"Allocated to {label} (n=20)" in text
    assert "Withdrew consent before first dose (n=1)" in text
    assert "Lost to follow-up (n=1)" in text
    gids = [p.get_gid() for p in consort_boxes(fig)]
    assert sum(g.startswith("consort-box-allocation") for g in gids) == 3
    assert sum(g.startswith("consort-box-analysis") for g in gids) == 3
    assert sum(g.startswith("consort-stage") for g in gids) == 4
    for stage in ("Enrollment", "Allocation", "Follow-up", "Analysis"):
        assert stage in text


def test_consort_adapters_agree(trial: TrialData, labels: dict[str, str]) -> None:
    """The analysis package's ConsortFlow and its ARD rows give the same diagram text as the
    independent counts."""
    from trialreport.families import disposition as consort

    spec = trial.study.output("consort")
    mine = _all_text(plot_consort(_consort_from_data(trial), labels))
    flow = consort.consort_flow(trial, spec)
    from_flow = as_consort_counts(flow)
    assert from_flow.problems() == []
    ard_rows = consort.compute(trial, spec)
    from_ard = as_consort_counts(consort.ConsortFlow.from_frame(ard_rows, trial.study, "consort"))
    assert from_ard == from_flow
    theirs = _all_text(plot_consort(flow, labels))
    numbers = sorted(s for s in mine.split() if s.startswith("(n="))
    assert sorted(s for s in theirs.split() if s.startswith("(n=")) == numbers
    assert _all_text(_figure(trial, "consort")) == theirs


# ------------------------------------------------------------------------------------------
# Kaplan-Meier


def test_km_one_line_per_arm_and_at_risk(trial: TrialData, labels: dict[str, str]) -> None:
    curves = _km_from_data(trial)
    fig = plot_km(curves, labels, ylabel="Proportion free of relapse")
    _check_readable(fig)
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("km-curve")]
    assert len(lines) == len(trial.study.arms)
    assert [ln.get_label() for ln in lines] == list(labels.values())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == list(labels.values()) and "Censored" in legend

    # numbers at risk = subjects with follow-up >= t (from the landmark), straight from ADTTE
    tte = trial["adtte"].merge(trial.adsl[["USUBJID", "TRT01P"]], on="USUBJID")
    months = tte["AVAL"].astype(float) / MONTH - LANDMARK
    ticks = time_ticks(months.max())
    assert list(ax.get_xticks()) == list(ticks) and ticks[-1] == 6
    expected = {labels[a]: [int(((tte["TRT01P"] == a) & (months >= t - 1e-9)).sum())
                            for t in ticks] for a in labels}
    assert at_risk_table(fig) == expected
    # at-risk numbers sit exactly under the x ticks
    risk_x = sorted({round(t.get_position()[0], 9) for t in fig.axes[1].texts})
    assert risk_x == [round(float(t), 9) for t in ticks]

    # one censor tick per censored subject
    censor = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("km-censor")]
    assert sum(len(ln.get_xdata()) for ln in censor) == int((tte["CNSR"] == 1).sum())


def test_km_adapters(trial: TrialData, labels: dict[str, str]) -> None:
    from trialreport.families import time_to_event as tte

    mine = at_risk_table(plot_km(_km_from_data(trial), labels))
    assert at_risk_table(plot_km(tte.km_curves(trial, "TTRELAPS"), labels)) == mine
    assert at_risk_table(plot_km(tte.tte_frame(trial, "TTRELAPS"), labels)) == mine
    fig = _figure(trial, "km_relapse")
    assert at_risk_table(fig) == mine
    assert fig.axes[0].get_ylabel() == "Proportion free of relapse"
    assert fig.axes[0].get_xlabel() == "Time from month 6 (months)"


def test_km_step_values() -> None:
    km = KMCurve.from_durations("A", [1, 2, 2, 3, 4], [True, True, False, True, False])
    assert km.surv_at(0.5) == pytest.approx(1.0)
    assert km.surv_at(1.0) == pytest.approx(0.8)
    assert km.surv_at(2.5) == pytest.approx(0.6)
    assert km.surv_at(3.0) == pytest.approx(0.3)
    assert km.at_risk(2) == 4 and km.at_risk(4.5) == 0
    assert list(km.censor_times) == [2.0, 4.0]


# ------------------------------------------------------------------------------------------
# Swimmer


def test_swimmer_one_lane_per_treated_patient(trial: TrialData,
                                              labels: dict[str, str]) -> None:
    lanes = _lanes_from_data(trial)
    fig = plot_swimmer(lanes, labels, course_label="Alemtuzumab course")
    _check_readable(fig)
    treated = trial.adsl[trial.adsl["SAFFL"] == "Y"]
    assert swimmer_lanes(fig) == len(treated) == 23
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(ticks) == sorted(short_ids(list(treated["USUBJID"])))
    markers = {}
    for ln in ax.get_lines():
        kind = "-".join((ln.get_gid() or "").split("-")[1:-1])
        markers[kind] = markers.get(kind, 0) + len(ln.get_xdata())
    exposure = trial["adex"][trial["adex"]["USUBJID"].isin(treated["USUBJID"])]
    assert markers["course"] == len(exposure)
    sae = trial["adae"][(trial["adae"]["AESER"] == "Y")]
    assert markers.get("sae-related", 0) == int((sae["AEREL"] == "RELATED").sum())
    assert markers.get("sae-unrelated", 0) == int((sae["AEREL"] != "RELATED").sum())
    eff = trial["adeff"]
    assert markers["relapse"] == int(((eff["PARAMCD"] == "RELAPSE")
                                      & (eff["AVALC"] == "Y")).sum())
    resp = eff[eff["PARAMCD"] == "RESP"]
    assert sum(markers.get(k, 0) for k in ("complete", "partial", "none")) == len(resp)
    assert markers["end"] == len(treated)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for entry in ("Alemtuzumab course", "Complete response", "Partial response", "No response",
                  "Relapse onset", "SAE, related", "SAE, not related", "Discontinued"):
        assert entry in legend
    # height grows with the number of patients
    fewer = plot_swimmer(lanes[:6], labels)
    assert fewer.get_size_inches()[1] < fig.get_size_inches()[1]


def test_swimmer_sorted_by_response_then_follow_up(labels: dict[str, str]) -> None:
    arm = next(iter(labels))
    lanes = [Lane("S-1", arm, 12, responses=((6, "NONE"),)),
             Lane("S-2", arm, 8, discontinued=True, responses=((6, "COMPLETE"),)),
             Lane("S-3", arm, 12, responses=((6, "PARTIAL"),)),
             Lane("S-4", arm, 12, responses=((3, "PARTIAL"), (6, "COMPLETE")))]
    fig = plot_swimmer(lanes, labels)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["4", "2", "3", "1"]


def test_swimmer_from_analysis(trial: TrialData, labels: dict[str, str]) -> None:
    from trialreport.families.profiles import swimmer_data

    sd = swimmer_data(trial)
    fig = plot_swimmer(sd, labels)
    assert swimmer_lanes(fig) == int((trial.adsl["SAFFL"] == "Y").sum())
    mine = plot_swimmer(_lanes_from_data(trial), labels)
    assert ([t.get_text() for t in fig.axes[0].get_yticklabels()]
            == [t.get_text() for t in mine.axes[0].get_yticklabels()])
    assert swimmer_lanes(_figure(trial, "swimmer")) == swimmer_lanes(fig)


# ------------------------------------------------------------------------------------------
# Saving


def _digests(paths: dict[str, Path]) -> dict[str, str]:
    return {fmt: hashlib.sha256(p.read_bytes()).hexdigest() for fmt, p in paths.items()}


def test_save_is_deterministic(tmp_path: Path, trial: TrialData,
                               labels: dict[str, str]) -> None:
    figs = {"consort": plot_consort(_consort_from_data(trial), labels),
            "km": plot_km(_km_from_data(trial), labels),
            "swimmer": plot_swimmer(_lanes_from_data(trial), labels)}
    for name, fig in figs.items():
        first = save_figure(fig, tmp_path / "a" / f"fig-{name}.1")
        second = save_figure(fig, tmp_path / "b" / f"fig-{name}.1")
        assert set(first) == {"svg", "png", "pdf"}
        assert first["svg"].name == f"fig-{name}.1.svg"  # dots in the stem are kept
        assert _digests(first) == _digests(second), name
        svg = first["svg"].read_text(encoding="utf-8")
        assert "<dc:date>" not in svg
        pdf = first["pdf"].read_bytes()
        assert b"/CreationDate" not in pdf and b"/Creator" not in pdf


SCRIPT = """
import sys
from pathlib import Path
from trialreport.data import load_trial
from trialreport.figures import plot_consort, plot_km, plot_swimmer, save_figure
sys.path.insert(0, {tests!r})
from test_figures import _consort_from_data, _km_from_data, _lanes_from_data
from conftest import DATA, SPEC, STUDY_FILE
t = load_trial(DATA, SPEC, STUDY_FILE)
labels = t.study.arm_labels
out = Path({folder!r})
save_figure(plot_consort(_consort_from_data(t), labels), out / "consort")
save_figure(plot_km(_km_from_data(t), labels), out / "km")
save_figure(plot_swimmer(_lanes_from_data(t), labels), out / "swimmer")
"""


def test_save_identical_across_processes(tmp_path: Path) -> None:
    """Two separate Python processes write byte-identical SVG, PDF and PNG files."""
    digests = []
    runs = {run: subprocess.Popen(  # side by side: two processes, as two renders would be
        [sys.executable, "-c", SCRIPT.format(tests=str(Path(__file__).parent),
                                             folder=str(tmp_path / run))],
        cwd=Path.cwd(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for run in ("one", "two")}
    for run, proc in runs.items():
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output
        files = sorted((tmp_path / run).iterdir())
        assert len(files) == 9
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1]


def test_style_is_local() -> None:
    """Building a figure does not leak the report style into global rcParams."""
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    plot_km([KMCurve.from_durations("A", np.array([1.0, 2.0]), np.array([True, False]))])
    assert dict(mpl.rcParams) == before


def test_every_figure_of_another_trial_builds_from_its_definition() -> None:
    """A three-arm trial with other names (a 'flare' endpoint in weeks) gets its numbered
    figures from its own study definition, without code changes."""
    from trialreport.data import trial_from_frames
    from trialreport.demodata.synthetic import make_synthetic_trial

    _, frames = make_synthetic_trial(300, 3000, arms=3, seed=5)
    study = synthetic_study(3)
    data = trial_from_frames(study, frames)
    names = [spec.name for spec in study.figures()]
    assert names == ["consort", "km_flare"]
    consort = _figure(data, "consort")
    assert "Randomised (n=300)" in _all_text(consort)
    km = _figure(data, "km_flare")
    assert len([line for line in km.axes[0].get_lines() if line.get_label() in
                study.arm_labels.values()]) == 3


def test_swimmer_takes_response_levels_and_course_label_from_the_definition(
        trial: TrialData) -> None:
    legend = [t.get_text() for t in _figure(trial, "swimmer").legends[0].get_texts()]
    settings = trial.study.model.swimmer
    assert settings.exposure.label in legend
    assert all(label in legend for label in settings.response.levels.values())
    other = plot_swimmer(_lanes_from_data(trial), responses={"CR": "Complete remission",
                                                             "PR": "Partial remission"})
    texts = [t.get_text() for t in other.legends[0].get_texts()]
    assert "Complete remission" in texts and "Complete response" not in texts
