"""Numbers for the report's prose, read from the ARD and formatted by :mod:`trialreport.formatting`.

In a chapter::

    ```{python}
    import trialreport as tr
    n = tr.open_book().n          # a Numbers over the report's ARD
    ```

    Of `{python} n.big_n("FAS")` treated patients, `{python} n.response("RESP6")` responded at
    month 6 (`{python} n.response_ci("RESP6")`); median age was `{python} n.median_range("AGE")`.

Every value comes from the ARD (never recomputed here) and every rounding from
:mod:`trialreport.formatting`, so the text cannot disagree with the tables. A result is found
by the output types that compute it (an endpoint in the ``binary_endpoints`` outputs, a baseline
variable in the ``baseline`` outputs, ...); give ``output=`` when two outputs hold it with
different values. Arms may be given by code or label; ``None`` means the total column. Counts
are returned as ``int``, composite phrases as ``str``; a value that is not estimable is "NE"
(or "not reached" for a median time).
"""

from __future__ import annotations

import math
from typing import Any

from trialreport import formatting as F
from trialreport.ard import ARD, POPULATION
from trialreport.study import Study

__all__ = ["Numbers"]

COMPARISON = "comparison"


def _pct_number(x: float, decimals: int) -> str:
    """A 0-1 proportion as a percentage number, scaled exactly in decimal."""
    return F.fmt_number(x, decimals, na=F.NE, scale=100)


def _pct_sign(x: float, decimals: int) -> str:
    """``"47%"``, or ``"NE"`` when not estimable."""
    text = _pct_number(x, decimals)
    return text if text == F.NE else f"{text}%"


def _and_list(parts: list[str]) -> str:
    """``"a, b and c"``."""
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


class Numbers:
    """Formatted numbers from one ARD for one study."""

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
        if arm == self.study.total_label or arm == COMPARISON or " vs " in arm:
            return arm
        raise KeyError(f"unknown arm {arm!r}; arms are {[a.display for a in self.study.arms]}")

    def analysis(self, types: tuple[str, ...], variable: str, statistic: str,
                 output: str | None = None, category: str = "") -> str:
        """The output (ARD ``analysis``) of one of ``types`` that holds ``variable``."""
        if output is not None:
            return output
        names = [a for a in self.ard.analyses_of(*types)
                 if len(self.ard.select(a, variable, statistic, category=category))]
        if not names:
            raise KeyError(f"no output of type {'/'.join(types)} computes {variable!r} "
                           f"({statistic}); add one under outputs: in the study definition")
        return names[0]

    def value(self, analysis: str, variable: str, statistic: str, arm: str | None = None,
              category: str = "") -> float:
        """The raw (unrounded) ARD value of one key."""
        return self.ard.get(analysis, variable, statistic, self.group(arm), str(category))

    def count(self, analysis: str, variable: str, statistic: str = "n", arm: str | None = None,
              category: str = "") -> int:
        """A count from the ARD as ``int``."""
        return int(self.value(analysis, variable, statistic, arm, category))

    def _conf(self) -> str:
        return self.study.conf_label()

    def _first_comparison(self) -> str:
        comps = self.study.comparisons
        return self.study.comparison_group(comps[0]) if comps else COMPARISON

    # -- populations ------------------------------------------------------------------------
    def big_n(self, population: str, arm: str | None = None) -> int:
        """Subjects in a population (per arm, or in total)."""
        return int(self.ard.get(POPULATION, "N", "n", self.group(arm), "", population))

    def arm_label(self, arm: str) -> str:
        """Display label of an arm."""
        return self.study.arm_label(self.group(arm))

    # -- every arm or comparison in one phrase ----------------------------------------------
    def per_arm(self, method: str, *args: Any, joiner: str = "on", **kwargs: Any) -> str:
        """One phrase with a number of every arm, in display order: ``n.per_arm("big_n",
        "SAF")`` gives ``"85 on Placebo, 85 on Drug 25 mg and 84 on Drug 50 mg"``.

        ``method`` is a method of this class that takes ``arm=`` (``big_n``, ``consort``,
        ``level``, ``ae_patients``, ``events``, ``median_time``, ...), called with ``args``
        and ``kwargs`` for each arm, so a chapter never types an arm's label.
        """
        fn = self._arm_method(method)
        parts = [f"{fn(*args, arm=a.code, **kwargs)} {joiner} {a.display}".replace("  ", " ")
                 for a in self.study.arms]
        return _and_list(parts)

    def per_comparison(self, method: str, *args: Any, **kwargs: Any) -> str:
        """One phrase with a between-arm result of every comparison: ``n.per_comparison(
        "p_logrank", "TTPROG")`` gives ``"p = 0.120 for Drug 25 mg − Placebo and p = 0.030
        for Drug 50 mg − Placebo"``; ``method`` takes ``comparison=`` (``p_logrank``,
        ``difference``, ``p_response``). Without comparisons it raises ``KeyError``."""
        fn = getattr(type(self), method, None)
        if fn is None or method.startswith("_") or not callable(fn):
            raise KeyError(f"Numbers has no method {method!r}")
        comps = self.study.comparisons
        if not comps:
            raise KeyError("the study defines no comparisons (arms.reference or "
                           "arms.comparisons)")
        return _and_list([f"{fn(self, *args, comparison=self.study.comparison_group(c), **kwargs)}"
                          f" for {self.study.comparison_label(c)}" for c in comps])

    def _arm_method(self, method: str) -> Any:
        import inspect

        fn = getattr(self, method, None) if not method.startswith("_") else None
        if fn is None or not callable(fn) or method in ("per_arm", "per_comparison"):
            raise KeyError(f"Numbers has no method {method!r}")
        if "arm" not in inspect.signature(fn).parameters:
            raise KeyError(f"Numbers.{method} takes no arm, so it has no per-arm values")
        return fn

    # -- proportions ------------------------------------------------------------------------
    def response(self, endpoint: str, arm: str | None = None, decimals: int = 0,
                 output: str | None = None) -> str:
        """Responders of a binary endpoint, ``"16/23 (70%)"``."""
        a = self.analysis(("binary_endpoints",), endpoint, "n", output)
        return F.fmt_n_over_N_pct(self.count(a, endpoint, "n", arm),
                                  self.count(a, endpoint, "N", arm), decimals)

    def responders(self, endpoint: str, arm: str | None = None,
                   output: str | None = None) -> int:
        """Number of responders of a binary endpoint."""
        a = self.analysis(("binary_endpoints",), endpoint, "n", output)
        return self.count(a, endpoint, "n", arm)

    def pct(self, endpoint: str, arm: str | None = None, decimals: int = 0,
            output: str | None = None) -> str:
        """Just the percentage of responders, ``"70%"`` (exact from the counts)."""
        a = self.analysis(("binary_endpoints",), endpoint, "n", output)
        text = F.fmt_pct(self.count(a, endpoint, "n", arm), self.count(a, endpoint, "N", arm),
                         decimals)
        return f"{text}%" if text else F.NE

    def response_with_ci(self, endpoint: str, arm: str | None = None, decimals: int = 0,
                         output: str | None = None) -> str:
        """``"16/23 (70%; 95% CI 47% to 87%)"``: responders with the proportion's CI."""
        a = self.analysis(("binary_endpoints",), endpoint, "estimate", output)
        n, N = self.count(a, endpoint, "n", arm), self.count(a, endpoint, "N", arm)
        lo, hi = (self.value(a, endpoint, s, arm) for s in ("lower", "upper"))
        pct = F.fmt_pct(n, N, decimals)
        return (f"{n}/{N} ({pct}%; {self._conf()} {_pct_sign(lo, decimals)} to "
                f"{_pct_sign(hi, decimals)})")

    def response_ci(self, endpoint: str, arm: str | None = None, decimals: int = 0,
                    output: str | None = None) -> str:
        """``"70% (95% CI 47% to 87%)"``: proportion with its confidence interval."""
        a = self.analysis(("binary_endpoints",), endpoint, "estimate", output)
        est, lo, hi = (self.value(a, endpoint, s, arm) for s in ("estimate", "lower", "upper"))
        return (f"{_pct_sign(est, decimals)} ({self._conf()} {_pct_sign(lo, decimals)} to "
                f"{_pct_sign(hi, decimals)})")

    def difference(self, endpoint: str, decimals: int = 0, comparison: str | None = None,
                   output: str | None = None) -> str:
        """Treatment - reference in percentage points with CI,
        ``"−6 percentage points (95% CI −39 to 29)"`` (the first comparison by default)."""
        group = comparison or self._first_comparison()
        a = self.analysis(("binary_endpoints",), endpoint, "estimate", output)
        est, lo, hi = (self.value(a, endpoint, s, group) for s in ("estimate", "lower", "upper"))
        return (f"{_pct_number(est, decimals)} percentage points ({self._conf()} "
                f"{_pct_number(lo, decimals)} to {_pct_number(hi, decimals)})")

    def p_response(self, endpoint: str, comparison: str | None = None,
                   output: str | None = None) -> str:
        """``"p = 0.673"`` for a binary endpoint's comparison."""
        group = comparison or self._first_comparison()
        a = self.analysis(("binary_endpoints",), endpoint, "pvalue", output)
        return self._p(self.value(a, endpoint, "pvalue", group))

    # -- baseline ---------------------------------------------------------------------------
    def _baseline(self, variable: str, statistic: str, output: str | None,
                  category: str = "") -> str:
        return self.analysis(("baseline", "exposure"), variable, statistic, output, category)

    def level(self, variable: str, level: Any, arm: str | None = None, decimals: int = 0,
              output: str | None = None) -> str:
        """A categorical level, ``"15/23 (65%)"`` (denominator: non-missing values)."""
        cat = str(level)
        a = self._baseline(variable, "n", output, cat)
        return F.fmt_n_over_N_pct(self.count(a, variable, "n", arm, cat),
                                  self.count(a, variable, "N", arm, cat), decimals)

    def _decimals(self, analysis: str, variable: str) -> int:
        for section in (self.study.model.baseline, self.study.model.exposure):
            for v in (section.variables if section else []):
                if v.name == variable and v.decimals is not None:
                    return v.decimals
        precision = self.ard.get(analysis, variable, "precision")
        return 0 if math.isnan(precision) else int(precision)

    def _num(self, analysis: str, variable: str, statistic: str, arm: str | None,
             decimals: int) -> str:
        return F.fmt_number(self.value(analysis, variable, statistic, arm), decimals, na=F.NE)

    def median_range(self, variable: str, arm: str | None = None,
                     decimals: int | None = None, output: str | None = None,
                     unit: str = "") -> str:
        """``"40.0 years (range 28 to 44)"``: median at the data's precision plus one, range
        at the data's precision (``unit`` after the median)."""
        a = self._baseline(variable, "median", output)
        d = self._decimals(a, variable) if decimals is None else decimals
        med = self._num(a, variable, "median", arm, d + (decimals is None))
        lo, hi = (self._num(a, variable, s, arm, d) for s in ("min", "max"))
        return f"{med}{' ' + unit if unit else ''} (range {lo} to {hi})"

    def median_iqr(self, variable: str, arm: str | None = None,
                   decimals: int | None = None, output: str | None = None,
                   unit: str = "") -> str:
        """``"61.0 months (IQR 42.0 to 103.0)"``."""
        a = self._baseline(variable, "median", output)
        d = (self._decimals(a, variable) + 1) if decimals is None else decimals
        med, q1, q3 = (self._num(a, variable, s, arm, d) for s in ("median", "q1", "q3"))
        return f"{med}{' ' + unit if unit else ''} (IQR {q1} to {q3})"

    def mean_sd(self, variable: str, arm: str | None = None, decimals: int | None = None,
                output: str | None = None) -> str:
        """``"38.5 (SD 4.75)"``: mean and standard deviation (SD one more decimal)."""
        a = self._baseline(variable, "mean", output)
        d = (self._decimals(a, variable) + 1) if decimals is None else decimals
        return f"{self._num(a, variable, 'mean', arm, d)} (SD " \
               f"{self._num(a, variable, 'sd', arm, d + 1)})"

    # -- counts in words -----------------------------------------------------------------------
    @staticmethod
    def patients(count: int, noun: str = "patient", capital: bool = True) -> str:
        """A count as writers put it in running text: ``"No patient"``, ``"One patient"``,
        ``"Three patients"``, ``"12 patients"`` (words below ten; ``capital`` for the start of
        a sentence). ``noun`` is singular ("randomised patient")."""
        return F.count_phrase(int(count), noun, capital)

    # -- p-values ---------------------------------------------------------------------------
    @staticmethod
    def _p(p: float) -> str:
        text = F.fmt_pvalue(p)
        return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"

    def pvalue(self, analysis: str, variable: str, group: str | None = None) -> str:
        """A p-value of an output's variable, ``"1.000"`` or ``"<0.001"`` (``group``: a
        comparison, default the first)."""
        g = group or (self._first_comparison()
                      if len(self.ard.select(analysis, variable, "pvalue",
                                             self._first_comparison())) else COMPARISON)
        return F.fmt_pvalue(self.ard.get(analysis, variable, "pvalue", g))

    def p(self, analysis: str, variable: str, group: str | None = None) -> str:
        """``"p = 0.130"`` / ``"p < 0.001"`` for running text."""
        text = self.pvalue(analysis, variable, group)
        return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"

    # -- safety -------------------------------------------------------------------------------
    def _population_n(self, analysis: str, arm: str | None) -> int:
        return int(self.ard.get(analysis, "", "N", self.group(arm)))

    def ae_patients(self, variable: str = "ANY_AE", arm: str | None = None,
                    decimals: int = 0, output: str | None = None) -> str:
        """Patients with an event of an AE-overview row, ``"7/23 (30%)"``."""
        a = self.analysis(("ae_overview",), variable, "subjects", output)
        return F.fmt_n_over_N_pct(self.count(a, variable, "subjects", arm),
                                  self._population_n(a, arm), decimals)

    def ae_patient_count(self, variable: str = "ANY_AE", arm: str | None = None,
                         output: str | None = None) -> int:
        """Number of patients with an event of an AE-overview row."""
        a = self.analysis(("ae_overview",), variable, "subjects", output)
        return self.count(a, variable, "subjects", arm)

    def ae_events(self, variable: str = "ANY_AE", arm: str | None = None,
                  output: str | None = None) -> int:
        """Events of an AE-overview row."""
        a = self.analysis(("ae_overview",), variable, "events", output)
        return self.count(a, variable, "events", arm)

    def sae_events(self, arm: str | None = None) -> int:
        """Serious adverse events (events, not patients)."""
        return self.ae_events("ANY_SAE", arm)

    def sae_patients(self, arm: str | None = None, decimals: int = 0) -> str:
        """Patients with at least one serious adverse event, ``"7/23 (30%)"``."""
        return self.ae_patients("ANY_SAE", arm, decimals)

    def sae_related_events(self, arm: str | None = None) -> int:
        """Serious adverse events assessed as related."""
        return self.ae_events("RELATED_SAE", arm)

    def soc_pt(self, output: str, soc: str = "ANY", pt: str = "", arm: str | None = None,
               decimals: int = 0) -> str:
        """Patients with events in a SOC (or one PT) of SOC/PT output ``output``,
        ``"3/23 (13%)"``."""
        return F.fmt_n_over_N_pct(self.count(output, soc, "subjects", arm, pt),
                                  self._population_n(output, arm), decimals)

    # -- disposition ----------------------------------------------------------------------------
    def consort(self, stage: str, reason: str = "", arm: str | None = None,
                output: str | None = None) -> int:
        """A CONSORT count (``assessed``, ``randomised``, ``received``, ...; ``reason`` for the
        by-reason rows)."""
        a = self.analysis(("consort", "disposition"), stage, "n", output)
        return self.count(a, stage, "n", arm, reason)

    def reasons(self, stage: str, arm: str | None = None, output: str | None = None
                ) -> dict[str, int]:
        """Counts by reason of a CONSORT stage (``excluded``, ``discontinued``, ...), in the
        ARD's order (most frequent first)."""
        a = self.analysis(("consort", "disposition"), stage, "n", output)
        rows = self.ard.select(a, stage, "n", self.group(arm))
        return {str(c): int(v) for c, v in zip(rows["category"], rows["value"], strict=True)
                if c}

    # -- time to event ---------------------------------------------------------------------------
    def _tte(self, param: str, statistic: str, output: str | None, category: str = "") -> str:
        return self.analysis(("time_to_event", "km"), self.study.tte(param).id, statistic,
                             output, category)

    def median_time(self, param: str, arm: str | None = None, decimals: int = 1,
                    output: str | None = None) -> str:
        """``"11.5 months (95% CI 9.9 to NE)"``; ``"not reached"`` when the median is NE."""
        from trialreport.families.time_to_event import display_unit

        spec = self.study.tte(param)
        a = self._tte(param, "median", output)
        med, lo, hi = (self.value(a, spec.id, s, arm)
                       for s in ("median", "median_lower", "median_upper"))
        if math.isnan(med):
            return "not reached"
        med_text, lo_text, hi_text = (F.fmt_number(x, decimals, na=F.NE) for x in (med, lo, hi))
        return f"{med_text} {display_unit(spec)} ({self._conf()} {lo_text} to {hi_text})"

    def survival_at(self, param: str, landmark: Any, arm: str | None = None,
                    decimals: int = 0, output: str | None = None) -> str:
        """Kaplan-Meier estimate at a landmark, ``"50% (95% CI 25% to 71%)"``."""
        spec = self.study.tte(param)
        cat = str(landmark)
        a = self._tte(param, "surv", output, cat)
        s, lo, hi = (self.value(a, spec.id, st, arm, cat)
                     for st in ("surv", "surv_lower", "surv_upper"))
        return (f"{_pct_sign(s, decimals)} ({self._conf()} {_pct_sign(lo, decimals)} to "
                f"{_pct_sign(hi, decimals)})")

    def events(self, param: str, arm: str | None = None, output: str | None = None) -> int:
        """Events of a time-to-event endpoint."""
        spec = self.study.tte(param)
        return self.count(self._tte(param, "events", output), spec.id, "events", arm)

    def analysed(self, param: str, arm: str | None = None, output: str | None = None) -> int:
        """Patients analysed for a time-to-event endpoint."""
        spec = self.study.tte(param)
        return self.count(self._tte(param, "n", output), spec.id, "n", arm)

    def p_logrank(self, param: str, comparison: str | None = None,
                  output: str | None = None) -> str:
        """``"p = 0.42"``: the log-rank test of a time-to-event endpoint."""
        spec = self.study.tte(param)
        a = self._tte(param, "pvalue", output)
        group = comparison or (self._first_comparison() if self.study.comparisons
                               else COMPARISON)
        return self._p(self.value(a, spec.id, "pvalue", group))
