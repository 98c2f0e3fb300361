"""Numbers for the report's prose, read from the ARD and formatted by :mod:`trialreport.formatting`.

In a chapter::

    ```{python}
    from trialreport.book import book
    n = book().n          # a Numbers over the report's ARD
    ```

    Of `{python} n.big_n("FAS")` treated patients, `{python} n.response("RESP6")` responded at
    month 6 (`{python} n.response_ci("RESP6")`); median age was `{python} n.median_range("AGE")`.

Every value comes from the ARD (never recomputed here) and every rounding from
:mod:`trialreport.formatting`, so the text cannot disagree with the tables. Arms may be given by
code (``"Alemtuzumab 60 mg"``) or label (``"60 mg"``); ``None`` means the total column. Counts
are returned as ``int``, composite phrases as ``str``; a value that is not estimable is "NE" (or
"not reached" for a median time).
"""

from __future__ import annotations

import math
from typing import Any

from trialreport import formatting as F
from trialreport.analysis.ard import ARD
from trialreport.study import Study

__all__ = ["Numbers"]

SAFETY_ANALYSES = ("ae_overview", "sae_soc_pt", "ae_soc_pt")


def _pct_number(x: float, decimals: int) -> str:
    """A 0-1 proportion as a percentage number, scaled exactly in decimal."""
    return F.fmt_number(x, decimals, na=F.NE, scale=100)


def _pct_sign(x: float, decimals: int) -> str:
    """``"47%"``, or ``"NE"`` when not estimable."""
    text = _pct_number(x, decimals)
    return text if text == F.NE else f"{text}%"


class Numbers:
    """Formatted numbers from one ARD for one study.

    Parameters
    ----------
    ard : ARD
        The analysis results data.
    study : Study
        The study definition (labels, decimals, confidence level, time units).
    """

    def __init__(self, ard: ARD, study: Study):
        self.ard = ard
        self.study = study

    # -- plumbing ---------------------------------------------------------------------------
    def group(self, arm: str | None) -> str:
        """ARD group of an arm given by code or label (``None`` = total)."""
        if arm is None:
            return self.study.total_label
        for a in self.study.arms:
            if arm in (a.code, a.label):
                return a.code
        if arm in (self.study.total_label, "comparison"):
            return arm
        raise KeyError(f"unknown arm {arm!r}; arms are {[a.label for a in self.study.arms]}")

    def value(self, analysis: str, variable: str, statistic: str, arm: str | None = None,
              category: str = "", population: str | None = None) -> float:
        """The raw (unrounded) ARD value of one key."""
        return self.ard.get(analysis, variable, statistic, self.group(arm), str(category),
                            population)

    def count(self, analysis: str, variable: str, statistic: str = "n", arm: str | None = None,
              category: str = "", population: str | None = None) -> int:
        """A count from the ARD as ``int``."""
        return int(self.value(analysis, variable, statistic, arm, category, population))

    def _conf(self) -> str:
        return self.study.conf_label()

    def _population_of(self, analysis: str, variable: str) -> str:
        pops = set(self.ard.select(analysis, variable)["population"])
        if len(pops) != 1:
            raise KeyError(f"{analysis}/{variable}: populations {sorted(pops)}")
        return pops.pop()

    # -- populations ------------------------------------------------------------------------
    def big_n(self, population: str, arm: str | None = None) -> int:
        """Subjects in a population (per arm, or in total)."""
        return self.count("population", "N", "n", arm, population=population)

    def arm_label(self, arm: str) -> str:
        """Display label of an arm."""
        return self.study.arm_label(self.group(arm))

    # -- proportions ------------------------------------------------------------------------
    def n_over_N_pct(self, analysis: str, variable: str, arm: str | None = None,
                     category: str = "", decimals: int = 0) -> str:
        """``"16/23 (70%)"`` for an efficacy endpoint, a baseline level (``category``), or an
        AE row (patients over the population's N)."""
        if analysis in SAFETY_ANALYSES:
            pop = self._population_of(analysis, variable)
            n = self.count(analysis, variable, "subjects", arm, category)
            N = self.big_n(pop, arm)
        else:
            n = self.count(analysis, variable, "n", arm, category)
            N = self.count(analysis, variable, "N", arm, category)
        return F.fmt_n_over_N_pct(n, N, decimals)

    def pct(self, analysis: str, variable: str, arm: str | None = None, category: str = "",
            decimals: int = 0) -> str:
        """Just the percentage, ``"70%"`` (exact from the counts)."""
        if analysis in SAFETY_ANALYSES:
            n = self.count(analysis, variable, "subjects", arm, category)
            N = self.big_n(self._population_of(analysis, variable), arm)
        else:
            n = self.count(analysis, variable, "n", arm, category)
            N = self.count(analysis, variable, "N", arm, category)
        text = F.fmt_pct(n, N, decimals)
        return f"{text}%" if text else F.NE

    def response(self, endpoint: str, arm: str | None = None, decimals: int = 0) -> str:
        """Responders of a binary endpoint, ``"16/23 (70%)"``."""
        return self.n_over_N_pct("efficacy", endpoint, arm, decimals=decimals)

    def response_ci(self, endpoint: str, arm: str | None = None, decimals: int = 0) -> str:
        """``"70% (95% CI 47% to 87%)"``: proportion with its confidence interval."""
        est, lo, hi = (self.value("efficacy", endpoint, s, arm)
                       for s in ("estimate", "lower", "upper"))
        return (f"{_pct_sign(est, decimals)} ({self._conf()} {_pct_sign(lo, decimals)} to "
                f"{_pct_sign(hi, decimals)})")

    def difference(self, endpoint: str, decimals: int = 0) -> str:
        """Treatment - reference in percentage points with CI,
        ``"-6 percentage points (95% CI -39 to 29)"``."""
        est, lo, hi = (self.value("efficacy", endpoint, s, "comparison")
                       for s in ("estimate", "lower", "upper"))
        return (f"{_pct_number(est, decimals)} percentage points ({self._conf()} "
                f"{_pct_number(lo, decimals)} to {_pct_number(hi, decimals)})")

    def level(self, variable: str, level: Any, arm: str | None = None,
              decimals: int = 0) -> str:
        """A baseline category, ``"15/23 (65%)"`` (denominator: non-missing values)."""
        return self.n_over_N_pct("baseline", variable, arm, str(level), decimals)

    # -- p-values ---------------------------------------------------------------------------
    def pvalue(self, analysis: str, variable: str, decimals: int = 3) -> str:
        """The between-arm p-value as a number, ``"1.000"`` or ``"<0.001"``."""
        return F.fmt_pvalue(self.value(analysis, variable, "pvalue", "comparison"), decimals)

    def p(self, analysis: str, variable: str, decimals: int = 3) -> str:
        """``"p = 0.130"`` / ``"p < 0.001"`` for running text."""
        text = self.pvalue(analysis, variable, decimals)
        return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"

    # -- continuous baseline ------------------------------------------------------------------
    def _decimals(self, variable: str) -> int:
        for v in (self.study.section("baseline") or {}).get("variables", []):
            if v.get("name") == variable:
                return int(v.get("decimals", 1))
        return 1

    def _num(self, variable: str, statistic: str, arm: str | None,
             decimals: int | None) -> str:
        d = self._decimals(variable) if decimals is None else decimals
        return F.fmt_number(self.value("baseline", variable, statistic, arm), d, na=F.NE)

    def median_range(self, variable: str, arm: str | None = None,
                     decimals: int | None = None) -> str:
        """``"40 (range 28-44)"`` (decimals from the study definition)."""
        med, lo, hi = (self._num(variable, s, arm, decimals) for s in ("median", "min", "max"))
        return f"{med} (range {lo}-{hi})"

    def median_iqr(self, variable: str, arm: str | None = None,
                   decimals: int | None = None) -> str:
        """``"61 (IQR 42-103)"``."""
        med, q1, q3 = (self._num(variable, s, arm, decimals) for s in ("median", "q1", "q3"))
        return f"{med} (IQR {q1}-{q3})"

    def mean_sd(self, variable: str, arm: str | None = None, decimals: int | None = None) -> str:
        """``"38.5 (SD 4.75)"``: mean and standard deviation (SD one more decimal)."""
        d = self._decimals(variable) if decimals is None else decimals
        mean = self._num(variable, "mean", arm, d)
        sd = self._num(variable, "sd", arm, d + 1)
        return f"{mean} (SD {sd})"

    # -- safety -------------------------------------------------------------------------------
    def ae_patients(self, variable: str = "ANY_AE", arm: str | None = None,
                    decimals: int = 0) -> str:
        """Patients with an event of an AE-overview row, ``"7/23 (30%)"``."""
        return self.n_over_N_pct("ae_overview", variable, arm, decimals=decimals)

    def ae_events(self, variable: str = "ANY_AE", arm: str | None = None) -> int:
        """Events of an AE-overview row."""
        return self.count("ae_overview", variable, "events", arm)

    def sae_events(self, arm: str | None = None) -> int:
        """Serious adverse events (events, not patients)."""
        return self.ae_events("ANY_SAE", arm)

    def sae_patients(self, arm: str | None = None, decimals: int = 0) -> str:
        """Patients with at least one serious adverse event, ``"7/23 (30%)"``."""
        return self.ae_patients("ANY_SAE", arm, decimals)

    def sae_related_events(self, arm: str | None = None) -> int:
        """Serious adverse events assessed as related."""
        return self.ae_events("RELATED_SAE", arm)

    def soc_pt(self, soc: str, pt: str = "", arm: str | None = None, serious: bool = True,
               decimals: int = 0) -> str:
        """Patients with events in a SOC (or one PT), ``"3/23 (13%)"``."""
        analysis = "sae_soc_pt" if serious else "ae_soc_pt"
        return self.n_over_N_pct(analysis, soc, arm, pt, decimals)

    # -- disposition ----------------------------------------------------------------------------
    def consort(self, stage: str, reason: str = "", arm: str | None = None) -> int:
        """A CONSORT count (``assessed``, ``randomised``, ``received``, ...; ``reason`` for the
        by-reason rows)."""
        return self.count("consort", stage, "n", arm, reason)

    # -- time to event ---------------------------------------------------------------------------
    def _tte_unit(self, param: str) -> str:
        from trialreport.analysis.time_to_event import display_unit

        for spec in self.study.section("time_to_event") or []:
            if param in (str(spec.get("id")), str(spec.get("paramcd"))):
                return display_unit(spec)
        return ""

    def median_time(self, param: str, arm: str | None = None, decimals: int = 1) -> str:
        """``"11.5 months (95% CI 9.9 to NE)"``; ``"not reached"`` when the median is NE."""
        med, lo, hi = (self.value("tte", param, s, arm)
                       for s in ("median", "median_lower", "median_upper"))
        if math.isnan(med):
            return "not reached"
        med_text, lo_text, hi_text = (F.fmt_number(x, decimals, na=F.NE) for x in (med, lo, hi))
        unit = self._tte_unit(param)
        med_text = f"{med_text} {unit}" if unit else med_text
        return f"{med_text} ({self._conf()} {lo_text} to {hi_text})"

    def survival_at(self, param: str, landmark: Any, arm: str | None = None,
                    decimals: int = 0) -> str:
        """Kaplan-Meier estimate at a landmark, ``"50% (95% CI 25% to 71%)"``."""
        cat = str(landmark)
        s, lo, hi = (self.value("tte", param, st, arm, cat)
                     for st in ("surv", "surv_lower", "surv_upper"))
        return (f"{_pct_sign(s, decimals)} ({self._conf()} {_pct_sign(lo, decimals)} to "
                f"{_pct_sign(hi, decimals)})")

    def events(self, param: str, arm: str | None = None) -> int:
        """Events of a time-to-event endpoint."""
        return self.count("tte", param, "events", arm)
