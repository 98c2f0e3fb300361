"""CSR tables: numbering, big N, notes, values, escaping, determinism, 3+ arms, and what
pandoc makes of the HTML in Word. Most tests use a hand-built ARD (docs/ard.md), so the tables
are checked against known values independently of the analyses."""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import DATA, ROOT, SPEC, STUDY_FILE, study_with
from trialreport import formatting as F
from trialreport import tables as T
from trialreport.study import Study, load_study

XSS = '<script>alert(1)</script> & "x"'
LUA = ROOT / "src" / "trialreport" / "resources" / "render" / "trialreport.lua"
TABLES = ("baseline", "efficacy", "time_to_relapse", "ae_overview", "sae_soc_pt")


# --------------------------------------------------------------------------------------
# a hand-built ARD following docs/ard.md, for any number of arms
# --------------------------------------------------------------------------------------


def _rec(analysis: str, population: str, group: str, variable: str, category: str,
         statistic: str, value: float, method: str = "") -> dict:
    return dict(analysis=analysis, population=population, group=group, variable=variable,
                category=category, statistic=statistic, value=float(value), method=method)


def three_arm_study(study: Study) -> Study:
    return study_with(study, arms={
        "variable": "TRT01P",
        "levels": [{"code": "Drug 60 mg", "label": "60 mg"},
                   {"code": "Drug 30 mg", "label": "30 mg"},
                   {"code": "Placebo", "label": "Placebo"}],
        "total": "Total", "reference": "Placebo",
        "comparisons": [{"treatment": "Drug 60 mg", "reference": "Placebo",
                         "label": "60 mg - Placebo"}]})


def hand_ard(study: Study) -> pd.DataFrame:
    """Arms get N = 8, 11, 12, ...; values chosen to exercise formatting edge cases."""
    arms = [a.code for a in study.arms]
    total = study.total_label
    groups = [*arms, total]
    comparison = study.comparison_group(study.comparisons[0])
    ns = {g: (8 if i == 0 else 10 + i) for i, g in enumerate(arms)}
    ns[total] = sum(ns.values())
    rows: list[dict] = []
    for pop in ("FAS", "SAF", "RAND"):
        rows += [_rec("population", pop, g, "N", "", "n", ns[g]) for g in groups]
    for name, pop in (("baseline", "FAS"), ("efficacy", "FAS"), ("time_to_relapse", "FAS"),
                      ("ae_overview", "SAF"), ("sae_soc_pt", "SAF")):
        rows += [_rec(name, pop, g, "", "", "N", ns[g]) for g in groups]
    resp = {a: max(ns[a] - 2 * i - 1, 0) for i, a in enumerate(arms)}
    resp[arms[0]] = 1                                   # 1/8 = 12.5%: a rounding tie
    resp[total] = sum(resp[a] for a in arms)
    rows += [_rec("baseline", "FAS", total, var, "", "precision", 0) for var in ("AGE", "CREATBL")]
    for i, g in enumerate(groups):
        n = ns[g]
        rows += [_rec("baseline", "FAS", g, "AGE", "", s, v) for s, v in
                 dict(n=n, nmiss=0, mean=40.25 + i, sd=10.5, median=42.5, q1=30.5, q3=50,
                      min=18, max=70).items()]
        nm = 1 if g in (arms[0], total) else 0
        rows += [_rec("baseline", "FAS", g, "CREATBL", "", s, v) for s, v in
                 dict(n=n - nm, nmiss=nm, mean=100.5, sd=20.25, median=98, q1=80, q3=120,
                      min=50, max=200).items()]
        f = 3 if g != total else 3 * len(arms)
        for code, k in (("F", f), ("M", n - f)):
            rows += [_rec("baseline", "FAS", g, "SEX", code, "n", k),
                     _rec("baseline", "FAS", g, "SEX", code, "N", n),
                     _rec("baseline", "FAS", g, "SEX", code, "pct", 100 * k / n)]
        rows.append(_rec("baseline", "FAS", g, "SEX", "", "nmiss", 0))
        p = resp[g] / n
        cp = "Clopper-Pearson exact"
        rows += [_rec("efficacy", "FAS", g, "RESP6", "", "n", resp[g]),
                 _rec("efficacy", "FAS", g, "RESP6", "", "N", n),
                 _rec("efficacy", "FAS", g, "RESP6", "", "pct", 100 * p),
                 _rec("efficacy", "FAS", g, "RESP6", "", "estimate", p, cp),
                 _rec("efficacy", "FAS", g, "RESP6", "", "lower", max(p - 0.1, 0.0), cp),
                 _rec("efficacy", "FAS", g, "RESP6", "", "upper", min(p + 0.1, 1.0), cp)]
        rows += [_rec("time_to_relapse", "FAS", g, "TTRELAPS", "", s, v) for s, v in
                 dict(n=8 + i, events=3, censored=5 + i, median=math.nan if i == 0 else 9.25,
                      median_lower=6.05, median_upper=math.nan).items()]
        for m in ("3", "6"):
            rows += [_rec("time_to_relapse", "FAS", g, "TTRELAPS", m, "surv", 0.875),
                     _rec("time_to_relapse", "FAS", g, "TTRELAPS", m, "surv_lower", 0.387),
                     _rec("time_to_relapse", "FAS", g, "TTRELAPS", m, "surv_upper", 0.981)]
        for var, k, e in (("ANY_AE", n, 40 + i), ("ANY_SAE", 3, 4), ("AE_FATAL", 0, 0)):
            rows += [_rec("ae_overview", "SAF", g, var, "", "subjects", k),
                     _rec("ae_overview", "SAF", g, var, "", "pct", 100 * k / n),
                     _rec("ae_overview", "SAF", g, var, "", "events", e)]
        mult = len(arms) if g == total else 1
        socs = {"ANY": {"": 3},  # in display order, as the analysis writes them
                "Infections and infestations": {"": 3, "Pneumonia": 2, XSS: 1},
                "Blood and lymphatic system disorders": {"": 1, "Neutropenia": 1}}
        for soc, pts in socs.items():
            for pt, c in pts.items():
                rows += [_rec("sae_soc_pt", "SAF", g, soc, pt, "subjects", c * mult),
                         _rec("sae_soc_pt", "SAF", g, soc, pt, "pct", 100 * c * mult / n),
                         _rec("sae_soc_pt", "SAF", g, soc, pt, "events", c * mult + 1)]
    rows += [_rec("efficacy", "FAS", comparison, "RESP6", "", "estimate", 0.28788, "Newcombe"),
             _rec("efficacy", "FAS", comparison, "RESP6", "", "lower", -0.0912, "Newcombe"),
             _rec("efficacy", "FAS", comparison, "RESP6", "", "upper", 0.5872, "Newcombe"),
             _rec("efficacy", "FAS", comparison, "RESP6", "", "pvalue", 0.19345, "Fisher"),
             _rec("time_to_relapse", "FAS", comparison, "TTRELAPS", "", "pvalue", 0.4321,
                  "Log-rank")]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study() -> Study:
    return load_study(STUDY_FILE)


@pytest.fixture(scope="module")
def study3(study: Study) -> Study:
    return three_arm_study(study)


def _html(name: str, ard, study: Study) -> str:
    return T.to_html(T.build_output(study, name, ard))


def _esc(text: str) -> str:
    return html.escape(text)


# --------------------------------------------------------------------------------------
# the shared layout, for every table
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("arms", [2, 3])
def test_number_title_big_n_population_notes_source(name: str, arms: int, study: Study,
                                                    study3: Study) -> None:
    st = study if arms == 2 else study3
    ard = hand_ard(st)
    out = _html(name, ard, st)
    spec = st.output(name)
    assert _esc(f"Table {spec.id} {spec.title}") in out
    pop = st.populations[spec.population]
    # the output's own analysed N (never another output's or population's)
    ns = dict(ard.query("analysis == @name and variable == '' and statistic == 'N'")
              [["group", "value"]].itertuples(index=False))
    total_n = ns["Total"]
    subset = ": responders at month 6" if name == "time_to_relapse" else ""
    assert _esc(f"{pop.label}{subset} (N={int(total_n)})") in out
    for arm in st.arms:
        n = int(ns[arm.code])
        assert (f"{arm.label}<br>(N={n})" in out) or (f"{arm.label} (N={n})" in out)
    assert f"Total<br>(N={int(total_n)})" in out or f"Total (N={int(total_n)})" in out
    for note in spec.footnotes:
        assert _esc(note) in out
    datasets = {"baseline": "ADSL", "efficacy": "ADSL, ADEFF",
                "time_to_relapse": "ADSL, ADTTE, ADEFF",
                "ae_overview": "ADSL, ADAE", "sae_soc_pt": "ADSL, ADAE"}[name]
    assert f"Source: {datasets}; program trialreport.families." in out
    # notes are below the table (tfoot), the title above (thead), in that order
    assert out.index("gt_title") < out.index("<tbody") < out.index("<tfoot")
    if spec.footnotes:
        assert out.index(_esc(spec.footnotes[-1])) < out.index("Source: ")


@pytest.mark.parametrize("name", TABLES)
def test_same_ard_gives_byte_identical_html(name: str, study: Study) -> None:
    first = _html(name, hand_ard(study), study)
    second = _html(name, hand_ard(study), study)
    assert first == second
    spec = study.output(name)
    assert f'id="trialreport-table-{spec.id.replace(".", "-")}"' in first


def test_css_is_scoped_to_the_table(study: Study) -> None:
    out = _html("baseline", hand_ard(study), study)
    assert " tbody, tfoot" not in out
    assert "\n tr {" not in out
    assert "#trialreport-table-14-1-3 tbody" in out


def test_ard_object_and_frame_are_both_accepted_and_data_cut_shown(study: Study) -> None:
    frame = hand_ard(study)

    class Wrapped:
        def __init__(self, f: pd.DataFrame):
            self.frame, self.metadata = f, {}

    info = study.info.model_dump(mode="json", exclude_none=True)
    cut = study_with(study, study={**info, "data_cut": "2013-06-30"})
    out = T.to_html(T.build_output(cut, "efficacy", Wrapped(frame)))
    assert "data cut 2013-06-30" in out
    assert _html("efficacy", frame, study) == out.replace("; data cut 2013-06-30", "")


# --------------------------------------------------------------------------------------
# values: everything goes through trialreport.formatting
# --------------------------------------------------------------------------------------


def test_baseline_values_and_rows(study: Study) -> None:
    out = _html("baseline", hand_ard(study), study)
    # whole numbers in the data: location statistics with one decimal, min and max without
    assert F.fmt_median_iqr(42.5, 30.5, 50, 1) in out
    assert F.fmt_min_max(18, 70, 0) in out
    # ties round half away from zero (SAS ROUND): 40.25 -> 40.3; the SD has one more decimal
    assert F.fmt_mean_sd(40.25, 10.5, 1).startswith("40.3 (10.50")
    assert F.fmt_mean_sd(40.25, 10.5, 1) in out
    assert F.fmt_n_pct(3, 8) == "3 (38%)" and "3 (38%)" in out
    assert "P-value" not in out  # no tests of baseline differences unless asked (CONSORT)
    # "Missing" only for the variable that has missing values
    assert out.count(">\u00a0\u00a0\u00a0\u00a0Missing<") == 1
    for label in ("Age, years", "Sex", "Female", "Male", "Median (Q1, Q3)", "Min, Max",
                  "Mean (SD)"):
        assert label in out
    # variables absent from the ARD are left out, not shown empty
    assert "Diagnosis group" not in out


def test_efficacy_values_tie_rounds_half_away_from_zero(study: Study) -> None:
    out = _html("efficacy", hand_ard(study), study)
    tie = F.fmt_n_over_N_pct(1, 8)
    assert tie == "1/8 (13%)"            # 12.5 rounds half away from zero, as SAS ROUND
    assert _esc(tie) in out
    assert F.fmt_ci(0.025, 0.225, 1, scale=100) in out          # CI of an arm, in %
    diff = f"{F.fmt_number(28.788, 1)} {F.fmt_ci(-0.0912, 0.5872, 1, scale=100)}"
    assert diff.replace("\u2212", "-") == "28.8 (-9.1, 58.7)" and diff in out
    assert _esc(F.fmt_pvalue(0.19345)) in out
    assert "(primary endpoint)" in out
    assert "60 mg \u2212 30 mg" in out


def test_tte_values(study: Study) -> None:
    out = _html("time_to_relapse", hand_ard(study), study)
    assert F.fmt_n_over_N_pct(3, 8) in out
    assert "87.5 (38.7, 98.1)" in out                         # landmark, in %
    assert "NE (6.1, NE)" in out                              # median not estimable
    assert "9.3 (6.1, NE)" in out
    assert "Free of relapse 6 months from month 6, % (95% CI)" in out
    assert "Median time to relapse from month 6, months (95% CI)" in out
    assert "Log-rank p-value<br>60 mg \u2212 30 mg" in out
    assert _esc(F.fmt_pvalue(0.4321)) in out
    assert "Full analysis set: responders at month 6 (N=" in out  # the sub-population


def test_sae_soc_pt_sorted_bold_indented_escaped(study: Study) -> None:
    out = _html("sae_soc_pt", hand_ard(study), study)
    infections = out.index("<strong>Infections and infestations</strong>")
    blood = out.index("<strong>Blood and lymphatic system disorders</strong>")
    assert out.index("Any serious adverse event") < infections < blood
    pneumonia = out.index("\u00a0\u00a0\u00a0\u00a0Pneumonia")
    escaped = _esc(XSS)
    assert infections < pneumonia < out.index(escaped) < blood
    assert "<script>" not in out
    assert ">n (%)<" in out and ">E<" in out


def test_ae_overview_rows(study: Study) -> None:
    out = _html("ae_overview", hand_ard(study), study)
    for label in ("Any treatment-emergent adverse event", "Any serious adverse event",
                  "Any adverse event with fatal outcome"):
        assert label in out
    assert F.fmt_n_pct(0, 8) == "0" and ">0</td>" in out


def test_listing_escapes_data_and_shows_arm_labels(real) -> None:
    from trialreport.ard import build_ard
    from trialreport.data import trial_from_frames

    data, _ = real
    adae = data["adae"].copy()
    first = adae.index[adae["AESER"] == "Y"][0]
    adae["AEDECOD"] = adae["AEDECOD"].astype(object)  # text columns load as categoricals
    adae.loc[first, "AEDECOD"] = XSS
    hostile = trial_from_frames(data.study, {**data.frames, "adae": adae},
                                codelists=data.codelists)
    out = T.to_html(T.build_output(data.study, "sae_listing", build_ard(hostile), hostile))
    assert "<script>" not in out and _esc(XSS) in out
    assert "Safety population (N=23)" in out
    assert "60 mg (N=12)" in out and "Alemtuzumab 60 mg" not in out    # arm as row group
    assert 'class="gt_group_heading"' in out
    assert re.search(r">0\d\d<", out) and "ALEVIATE-0" not in out      # study prefix dropped
    assert ">Severe<" in out or ">Moderate<" in out                    # sentence case
    assert "Preferred term" in out and "Onset, study day" in out
    assert "Listing 14.3.2 Listing of serious adverse events" in out


def test_listing_without_events_says_so(real) -> None:
    from trialreport.ard import build_ard
    from trialreport.data import trial_from_frames

    data, _ = real
    adae = data["adae"].assign(AESER="N")
    none = trial_from_frames(data.study, {**data.frames, "adae": adae},
                             codelists=data.codelists)
    out = T.to_html(T.build_output(data.study, "sae_listing", build_ard(none), none))
    assert "No serious adverse events were reported." in out


def test_escaping_in_labels_from_the_study_definition(study: Study) -> None:
    arms = study.model.arms.model_dump(exclude_none=True)
    arms["levels"][0]["label"] = "<b>60</b> & mg"
    st = study_with(study, arms=arms)
    out = _html("efficacy", hand_ard(st), st)
    assert "<b>60</b>" not in out and "&lt;b&gt;60&lt;/b&gt; &amp; mg" in out


# --------------------------------------------------------------------------------------
# Word: pandoc's HTML reader makes a real table of it
# --------------------------------------------------------------------------------------


def _docx(html_text: str, tmp_path: Path, lua: bool = False) -> Path:
    import pypandoc
    out = tmp_path / "t.docx"
    if not lua:
        pypandoc.convert_text(html_text, "docx", format="html", outputfile=str(out))
        return out
    # as the assembler hands a table to the filter: the HTML in a media file the filter loads
    # (raw HTML written in the Markdown itself is shown as code, never run)
    (tmp_path / "media").mkdir(exist_ok=True)
    (tmp_path / "media" / "t1.html").write_text(html_text, encoding="utf-8")
    md = '# Tables\n\n::: {.tr-html-output src="media/t1.html"}\n:::\n'
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)  # the filter reads media/ relative to pandoc's working folder
    try:
        pypandoc.convert_text(md, "docx", format="markdown", outputfile=str(out),
                              filters=[str(LUA)])
    finally:
        os.chdir(cwd)
    return out


def test_docx_gets_a_real_table_with_title_header_and_notes(study: Study, tmp_path: Path) -> None:
    import docx
    doc = docx.Document(str(_docx(_html("efficacy", hand_ard(study), study), tmp_path)))
    assert len(doc.tables) == 1
    cells = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    flat = [t for row in cells for t in row]
    assert cells[0][0].startswith("Table 14.2.1")              # title row on top
    assert any(t.startswith("Full analysis set (N=") for t in cells[1])
    assert "60 mg\n(N=8)" in flat                             # the big-N line break survives
    assert any(t.startswith("Source: ADSL, ADEFF") for t in cells[-1])
    assert "1/8 (13%)" in flat


@pytest.mark.skipif(not LUA.exists(), reason="render engine's Lua filter not present")
def test_docx_with_render_filter_moves_title_and_notes_out(study: Study, tmp_path: Path) -> None:
    import docx
    ard = hand_ard(study)
    doc = docx.Document(str(_docx(_html("sae_soc_pt", ard, study), tmp_path, lua=True)))
    paras = [p.text.replace("\u00a0", " ") for p in doc.paragraphs]  # number kept with "Table"
    assert any(p.startswith("Table 14.3.5") for p in paras)
    assert any(p.startswith("Source: ADSL, ADAE") for p in paras)
    assert len(doc.tables) == 1
    text = [c.text for r in doc.tables[0].rows for c in r.cells]
    assert "Table 14.3.5" not in " ".join(text) and XSS in " ".join(text)


# --------------------------------------------------------------------------------------
# the real ARD on the shipped ALEVIATE data
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    from trialreport.ard import build_ard
    from trialreport.data import load_trial

    data = load_trial(DATA, SPEC, STUDY_FILE)
    return data, build_ard(data)


def test_aleviate_tables(real) -> None:
    data, ard = real
    st = data.study
    outs = {spec.name: T.to_html(T.build_output(st, spec.name, ard, data))
            for spec in st.output_specs if spec.kind != "figure"}
    assert "16/23 (70%)" in outs["efficacy"]
    assert "60 mg<br>(N=12)" in outs["efficacy"] and "30 mg<br>(N=11)" in outs["efficacy"]
    assert "Full analysis set (N=23)" in outs["baseline"]
    assert "responders at month 6 (N=16)" in outs["time_to_relapse"]
    for name, out in outs.items():
        assert f"{st.output(name).label} " in out
        assert "NaN" not in out and "nan" not in re.sub(r"<[^>]+>", "", out)
    assert _html("baseline", ard, st) == outs["baseline"]


def test_every_table_defines_its_abbreviations(real) -> None:
    """The footnotes define each abbreviation the table uses (from the glossary)."""
    from trialreport.glossary import abbreviations_in

    data, ard = real
    for spec in data.study.output_specs:
        if spec.kind == "figure":
            continue
        out = T.to_html(T.build_output(data.study, spec.name, ard, data))
        notes = out[out.index("<tfoot"):]
        body = out[:out.index("<tfoot")]
        for abbr, meaning in abbreviations_in([re.sub(r"<[^>]+>", " ", html.unescape(body))],
                                              data.study).items():
            assert html.escape(f"{abbr} = {meaning}") in notes, (spec.name, abbr)


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_html_renders_in_a_browser(study: Study, tmp_path: Path) -> None:
    page = tmp_path / "t.html"
    body = "".join(_html(n, hand_ard(study), study) for n in TABLES)
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}"
                    "</body></html>", encoding="utf-8")
    png = tmp_path / "t.png"
    subprocess.run(["chromium", "--no-sandbox", "--disable-gpu", "--headless",
                    f"--screenshot={png}", page.as_uri()], check=True, capture_output=True,
                   timeout=120)
    assert png.stat().st_size > 10_000
