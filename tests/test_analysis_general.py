"""The analyses on another trial: a synthetic three-arm placebo-controlled study of thousands of
subjects with its own study definition (other arm names, populations, datasets, endpoints, time
unit), written to YAML and loaded like ``data_spec/study.yml``. No analysis code knows this
trial; every expected value below is recomputed from the records with plain pandas/numpy/scipy.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from trialreport.analysis.ard import ARD, build_ard
from trialreport.analysis.efficacy import responder_flags
from trialreport.analysis.safety import sae_listing, soc_pt_counts
from trialreport.data import trial_from_frames
from trialreport.demodata.synthetic import make_synthetic_trial
from trialreport.study import load_study

PLACEBO, LOW, HIGH = "Placebo", "Zelvimab 50 mg", "Zelvimab 100 mg"
ARMS = [PLACEBO, LOW, HIGH]
TOTAL = "Overall"


def _trial(tmp_path, raw: dict, frames: dict):
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return trial_from_frames(load_study(path), frames)


@pytest.fixture(scope="module")
def synthetic():
    raw, frames = make_synthetic_trial(3000, 60000, arms=3, seed=11)
    raw["arms"]["total"] = TOTAL
    return raw, frames


@pytest.fixture(scope="module")
def built(synthetic, tmp_path_factory):
    raw, frames = synthetic
    data = _trial(tmp_path_factory.mktemp("study"), raw, frames)
    return data, build_ard(data)


# -- helpers computing expected values straight from the records --------------------------


def _pop(adsl: pd.DataFrame, flag: str, arm_var: str) -> pd.DataFrame:
    return adsl[adsl[flag] == "Y"].assign(ARMX=lambda f: f[arm_var])


def _km(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimate at the distinct event times."""
    ts = np.unique(time[event])
    at_risk = np.array([(time >= t).sum() for t in ts])
    deaths = np.array([((time == t) & event).sum() for t in ts])
    return ts, np.cumprod(1 - deaths / at_risk)


def _logrank_p(t1, e1, t2, e2) -> float:
    time, event = np.concatenate([t1, t2]), np.concatenate([e1, e2])
    group1 = np.concatenate([np.ones(len(t1), bool), np.zeros(len(t2), bool)])
    o_minus_e = var = 0.0
    for t in np.unique(time[event]):
        risk = time >= t
        n, n1 = risk.sum(), (risk & group1).sum()
        d = ((time == t) & event).sum()
        d1 = ((time == t) & event & group1).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return float(stats.chi2.sf(o_minus_e**2 / var, 1))


# -- populations and baseline ---------------------------------------------------------------


def test_big_n_per_population(built, synthetic) -> None:
    data, ard = built
    adsl = synthetic[1]["adsl"]
    for code, flag, arm_var in (("ITT", "ITTFL", "TRTP"), ("MITT", "MITTFL", "TRTP"),
                                ("SAFETY", "SAFFL", "TRTA"), ("PP", "PPROTFL", "TRTP")):
        pop = _pop(adsl, flag, arm_var)
        for arm in ARMS:
            assert ard.get("population", "N", "n", arm, population=code) == (
                pop["ARMX"] == arm).sum()
        assert ard.get("population", "N", "n", TOTAL, population=code) == len(pop)
    assert ard.get("population", "N", "n", TOTAL, population="ITT") == 3000


def test_baseline_continuous_and_test(built, synthetic) -> None:
    _, ard = built
    itt = _pop(synthetic[1]["adsl"], "ITTFL", "TRTP")
    for arm in ARMS:
        age = itt.loc[itt["ARMX"] == arm, "AGE"].astype(float)
        assert ard.get("baseline", "AGE", "median", arm) == np.median(age)
        assert ard.get("baseline", "AGE", "n", arm) == len(age)
        assert ard.get("baseline", "AGE", "min", arm) == age.min()
        weight = itt.loc[itt["ARMX"] == arm, "WEIGHT"]
        assert ard.get("baseline", "WEIGHT", "nmiss", arm) == weight.isna().sum() > 0
        assert ard.get("baseline", "WEIGHT", "mean", arm) == pytest.approx(weight.mean(),
                                                                          rel=1e-12)
    groups = [itt.loc[itt["ARMX"] == a, "AGE"].astype(float) for a in ARMS]
    expected = stats.kruskal(*groups)
    assert ard.get("baseline", "AGE", "pvalue", "comparison") == pytest.approx(expected.pvalue)
    assert "Kruskal-Wallis" in ard.method("baseline", "AGE", "pvalue", "comparison")


def test_baseline_categorical_keeps_unlisted_levels(built, synthetic) -> None:
    _, ard = built
    itt = _pop(synthetic[1]["adsl"], "ITTFL", "TRTP")
    race = ard.select("baseline", "RACE", "n", TOTAL)
    # study-definition order, then codes found in the data but not defined
    assert list(race["category"]) == ["WHITE", "BLACK", "ASIAN", "OTHER"]
    table = pd.crosstab(itt["ARMX"], itt["RACE"]).reindex(index=ARMS)
    for arm in ARMS:
        for level in ("WHITE", "OTHER"):
            assert ard.get("baseline", "RACE", "n", arm, level) == table.loc[arm, level]
        n_arm = table.loc[arm].sum()
        assert ard.get("baseline", "RACE", "pct", arm, "WHITE") == pytest.approx(
            100 * table.loc[arm, "WHITE"] / n_arm)
    chi = stats.chi2_contingency(table[["WHITE", "BLACK", "ASIAN", "OTHER"]].to_numpy(),
                                 correction=False)
    assert ard.get("baseline", "RACE", "pvalue", "comparison") == pytest.approx(chi.pvalue)
    assert ard.method("baseline", "RACE", "pvalue", "comparison") == "Pearson's chi-square test"
    # "NA" (North America) is a code, not a missing value
    assert ard.get("baseline", "REGION", "n", TOTAL, "NA") == (itt["REGION"] == "NA").sum()


# -- efficacy ---------------------------------------------------------------------------------


def _expected_responders(frames) -> pd.DataFrame:
    adsl, rs = frames["adsl"], frames["adrs"]
    mitt = _pop(adsl, "MITTFL", "TRTP")[["USUBJID", "ARMX"]]

    def who(param, visit=None, values=None, through=None):
        r = rs[rs["PARAMCD"] == param]
        if visit is not None:
            r = r[r["AVISITN"] == visit]
        if through is not None:
            r = r[r["AVISITN"] <= through]
        if values is not None:
            r = r[r["AVALC"].isin(values)]
        return set(r["USUBJID"])

    resp24 = who("RESPONSE", 24, ["Y"])
    sustain = (who("RESPONSE", 12, ["Y"]) - who("FLARE", values=["Y"], through=24)) & who(
        "RESPONSE", 24)
    return mitt.assign(RESP24=mitt["USUBJID"].isin(resp24),
                       SUSTAIN24=mitt["USUBJID"].isin(sustain))


def test_binary_endpoints_match_the_records(built, synthetic) -> None:
    _, ard = built
    exp = _expected_responders(synthetic[1])
    for ep in ("RESP24", "SUSTAIN24"):
        counts = exp.groupby("ARMX")[ep].agg(["sum", "size"])
        for arm in ARMS:
            n, N = int(counts.loc[arm, "sum"]), int(counts.loc[arm, "size"])
            assert ard.get("efficacy", ep, "n", arm) == n
            assert ard.get("efficacy", ep, "N", arm) == N
            assert ard.get("efficacy", ep, "pct", arm) == pytest.approx(100 * n / N)
            # Clopper-Pearson limits are beta quantiles
            assert ard.get("efficacy", ep, "lower", arm) == pytest.approx(
                stats.beta.ppf(0.025, n, N - n + 1))
            assert ard.get("efficacy", ep, "upper", arm) == pytest.approx(
                stats.beta.ppf(0.975, n + 1, N - n))
        n1, N1 = counts.loc[HIGH, "sum"], counts.loc[HIGH, "size"]
        n2, N2 = counts.loc[PLACEBO, "sum"], counts.loc[PLACEBO, "size"]
        assert ard.get("efficacy", ep, "estimate", "comparison") == pytest.approx(
            n1 / N1 - n2 / N2)
        lo, hi = (ard.get("efficacy", ep, s, "comparison") for s in ("lower", "upper"))
        assert lo < n1 / N1 - n2 / N2 < hi
        p = stats.fisher_exact([[n1, N1 - n1], [n2, N2 - n2]]).pvalue
        assert ard.get("efficacy", ep, "pvalue", "comparison") == pytest.approx(p)
    assert ard.get("efficacy", "RESP24", "n", TOTAL) == exp["RESP24"].sum()


def test_responder_flags_cover_the_population(built, synthetic) -> None:
    data, _ = built
    flags = responder_flags(data, "SUSTAIN24")
    exp = _expected_responders(synthetic[1]).set_index("USUBJID")["SUSTAIN24"]
    assert len(flags) == len(exp)
    assert (flags.set_index("subject")["responder"] == exp.loc[flags["subject"]].to_numpy()).all()


# -- time to event ---------------------------------------------------------------------------


def test_time_to_flare_in_weeks(built, synthetic) -> None:
    _, ard = built
    frames = synthetic[1]
    mitt = _pop(frames["adsl"], "MITTFL", "TRTP")[["USUBJID", "ARMX"]]
    tte = frames["adtte"].merge(mitt, on="USUBJID")
    by_arm = {}
    for arm in ARMS:
        sub = tte[tte["ARMX"] == arm]
        t = sub["AVAL"].to_numpy(float) / 7.0
        e = sub["CNSR"].to_numpy() == 0
        by_arm[arm] = (t, e)
        assert ard.get("tte", "TTFLARE", "n", arm) == len(sub)
        assert ard.get("tte", "TTFLARE", "events", arm) == e.sum()
        ts, surv = _km(t, e)
        s12 = surv[ts <= 12][-1] if (ts <= 12).any() else 1.0
        assert ard.get("tte", "TTFLARE", "surv", arm, "12") == pytest.approx(s12)
        lo, hi = (ard.get("tte", "TTFLARE", s, arm, "12") for s in ("surv_lower", "surv_upper"))
        assert lo < s12 < hi
        median = ard.get("tte", "TTFLARE", "median", arm)
        reached = surv <= 0.5 + 1e-9  # exactly 1/2 counts as reached
        if reached.any():
            assert median == pytest.approx(ts[np.argmax(reached)])
        else:
            assert np.isnan(median)
    p = _logrank_p(*by_arm[HIGH], *by_arm[PLACEBO])
    assert ard.get("tte", "TTFLARE", "pvalue", "comparison") == pytest.approx(p, rel=1e-9)
    assert set(ard.select("tte", "TTFLARE", "surv", TOTAL)["category"]) == {"12", "24", "52"}


# -- safety -------------------------------------------------------------------------------------


def _teae(frames) -> pd.DataFrame:
    saf = _pop(frames["adsl"], "SAFFL", "TRTA")[["USUBJID", "ARMX"]]
    return frames["adae"][frames["adae"]["TRTEMFL"] == "Y"].merge(saf, on="USUBJID")


def test_ae_overview_and_soc_pt(built, synthetic) -> None:
    data, ard = built
    frames = synthetic[1]
    ae = _teae(frames)
    assert len(ae) < len(frames["adae"])  # non-emergent events are left out
    saf_n = _pop(frames["adsl"], "SAFFL", "TRTA")["ARMX"].value_counts()
    sae = ae[ae["AESER"] == "Y"]
    for arm in ARMS:
        s = sae[sae["ARMX"] == arm]
        assert ard.get("ae_overview", "ANY_SAE", "subjects", arm) == s["USUBJID"].nunique()
        assert ard.get("ae_overview", "ANY_SAE", "events", arm) == len(s)
        assert ard.get("ae_overview", "ANY_SAE", "pct", arm) == pytest.approx(
            100 * s["USUBJID"].nunique() / saf_n[arm])
        fatal = s[s["AEOUT"] == "FATAL"]
        assert ard.get("ae_overview", "SAE_FATAL", "events", arm) == len(fatal)
        worst = ae[ae["ARMX"] == arm].assign(
            r=lambda f: f["AESEV"].map({"MILD": 0, "MODERATE": 1, "SEVERE": 2}))
        worst = worst.groupby("USUBJID")["r"].max()
        assert ard.get("ae_overview", "MAX_SEVERITY", "subjects", arm, "SEVERE") == (
            worst == 2).sum()
    pt = ae.groupby(["AEBODSYS", "AEDECOD"])["USUBJID"].nunique()
    for (soc, term), n in pt.items():
        assert ard.get("ae_soc_pt", soc, "subjects", TOTAL, term) == n
    assert ard.get("ae_soc_pt", "ANY", "events", TOTAL) == len(ae)
    counts = soc_pt_counts(data, serious_only=True)
    socs = counts[(counts["category"] == "") & (counts["group"] == TOTAL)
                  & (counts["variable"] != "ANY")]
    totals = socs["subjects"].to_numpy()
    assert (np.diff(totals) <= 0).all()  # decreasing frequency


def test_sae_listing_is_sorted_and_complete(built, synthetic) -> None:
    data, _ = built
    listing = sae_listing(data)
    sae = _teae(synthetic[1]).query("AESER == 'Y'")
    assert len(listing) == len(sae)
    assert list(listing.columns) == ["USUBJID", "TRTA", "AEBODSYS", "AEDECOD", "ASTDY", "AESEV",
                                     "AEREL", "AEOUT"]
    order = listing["TRTA"].map({"Placebo": 0, "50 mg": 1, "100 mg": 2})
    assert order.is_monotonic_increasing
    key = list(zip(order, listing["USUBJID"], listing["ASTDY"], strict=True))
    assert key == sorted(key)


# -- edge cases ---------------------------------------------------------------------------------


def test_arm_without_events(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    low_ids = set(frames["adsl"].loc[frames["adsl"]["TRTP"] == LOW, "USUBJID"])
    ae = frames["adae"]
    ae.loc[ae["USUBJID"].isin(low_ids), "AESER"] = "N"
    rs = frames["adrs"]
    rs.loc[rs["USUBJID"].isin(low_ids) & (rs["PARAMCD"] == "RESPONSE"), "AVALC"] = "N"
    tte = frames["adtte"]
    tte.loc[tte["USUBJID"].isin(low_ids), "CNSR"] = 1
    ard = build_ard(_trial(tmp_path, raw, frames))
    assert ard.get("ae_overview", "ANY_SAE", "subjects", LOW) == 0
    assert ard.get("ae_overview", "ANY_SAE", "pct", LOW) == 0
    sae_low = ard.select("sae_soc_pt", group=LOW)
    assert len(sae_low) > 0 and (sae_low["value"] == 0).all()
    assert ard.get("efficacy", "RESP24", "n", LOW) == 0
    assert ard.get("efficacy", "RESP24", "lower", LOW) == 0
    assert 0 < ard.get("efficacy", "RESP24", "upper", LOW) < 0.01
    assert ard.get("tte", "TTFLARE", "events", LOW) == 0
    assert np.isnan(ard.get("tte", "TTFLARE", "median", LOW))
    assert ard.get("tte", "TTFLARE", "surv", LOW, "12") == 1.0
    assert ard.problems() == []


def test_empty_arm(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    raw["arms"]["levels"].append({"code": "Zelvimab 200 mg", "label": "200 mg"})
    ard = build_ard(_trial(tmp_path, raw, frames))
    empty = "Zelvimab 200 mg"
    for pop in ("ITT", "MITT", "SAFETY", "PP"):
        assert ard.get("population", "N", "n", empty, population=pop) == 0
    assert ard.get("baseline", "AGE", "n", empty) == 0
    assert np.isnan(ard.get("baseline", "AGE", "median", empty))
    assert ard.get("baseline", "SEX", "N", empty, "F") == 0
    assert np.isnan(ard.get("baseline", "SEX", "pct", empty, "F"))
    assert ard.get("efficacy", "RESP24", "N", empty) == 0
    assert np.isnan(ard.get("efficacy", "RESP24", "estimate", empty))
    assert ard.get("tte", "TTFLARE", "n", empty) == 0
    assert np.isnan(ard.get("ae_overview", "ANY_AE", "pct", empty))
    assert ard.get("consort", "allocated", "n", empty) == 0
    # the other arms and the comparison are unchanged by an empty column
    assert ard.get("population", "N", "n", TOTAL, population="ITT") == 3000
    assert not np.isnan(ard.get("efficacy", "RESP24", "pvalue", "comparison"))
    assert ard.problems() == []


def test_missing_optional_datasets_are_skipped(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    for role in ("adrs", "adtte", "screening"):
        del frames[role]
    ard = build_ard(_trial(tmp_path, raw, frames))
    analyses = set(ard.frame["analysis"])
    assert "efficacy" not in analyses and "tte" not in analyses
    assert {"population", "consort", "baseline", "ae_overview"} <= analyses
    assert ard.select("consort", "assessed").empty
    assert ard.get("consort", "randomised", "n", TOTAL) == 3000


def test_study_without_optional_sections(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    for section in ("disposition", "endpoints", "time_to_event", "safety", "baseline"):
        raw.pop(section)
    ard = build_ard(_trial(tmp_path, raw, frames))
    assert set(ard.frame["analysis"]) == {"population"}
    assert isinstance(ard, ARD)


def test_swimmer_lanes_from_the_definition(synthetic, tmp_path) -> None:
    from trialreport.analysis.swimmer import swimmer_data

    raw, frames = copy.deepcopy(synthetic)
    assert swimmer_data(_trial(tmp_path, raw, frames)) is None  # no swimmer: section
    raw["swimmer"] = {"response": {"paramcd": "RESPONSE"},
                      "relapse": {"paramcd": "FLARE", "value": "Y"}, "months": 6}
    sd = swimmer_data(_trial(tmp_path, raw, frames))
    saf = _pop(frames["adsl"], "SAFFL", "TRTA")
    assert len(sd.lanes) == len(saf)
    assert list(sd.lanes["lane"]) == list(range(1, len(saf) + 1))
    rs = frames["adrs"][frames["adrs"]["USUBJID"].isin(saf["USUBJID"])]
    ev = sd.events
    assert (ev["event"] == "response").sum() == (rs["PARAMCD"] == "RESPONSE").sum()
    flares = rs[(rs["PARAMCD"] == "FLARE") & (rs["AVALC"] == "Y")]
    assert (ev["event"] == "relapse").sum() == len(flares)
    assert (ev["event"] == "sae").sum() == len(_teae(frames).query("AESER == 'Y'"))
    assert (ev["event"] == "discontinued").sum() == (saf["EOSSTT"] == "DISCONTINUED").sum()
    end = (saf["EOSDT"] - saf["TRTSDT"]).dt.days + 1
    assert sorted(sd.lanes["end_day"].astype(int)) == sorted(end)
    assert sd.horizon_months == 6
