"""Events of the inference: time to event (ADTTE), adverse events (ADAE) and the commented
example of a binary endpoint (which the data cannot give)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from trialreport.analysis_sets import as_text
from trialreport.spec.yaml_out import flow
from trialreport.study._infer_base import Base, name_of

__all__ = ["EventBlocks", "related_values", "severity_levels"]

SEVERITY_SCALE = ("MILD", "MODERATE", "SEVERE")
GRADE = re.compile(r"^(?:GRADE\s*)?([1-5])$", re.IGNORECASE)
#: Causality values that say "not related"; every other value counts as related (the
#: conservative reading: an unclear assessment is not taken as "not related").
NOT_RELATED = re.compile(r"^(NOT\b.*|UNRELATED|NONE|NO|N)$", re.IGNORECASE)
TIME_UNITS = {"DAY": "days", "DAYS": "days", "D": "days", "WEEK": "weeks", "WEEKS": "weeks",
              "MONTH": "months", "MONTHS": "months", "YEAR": "years", "YEARS": "years"}
UNIT_IN_LABEL = re.compile(r"\s*\((days?|weeks?|months?|years?)\)\s*$", re.IGNORECASE)
#: Show times in months when the longest time is at least this many (stored) units.
MONTHS_FROM = {"days": 183.0, "weeks": 26.0}


def related_values(values: list[str]) -> list[str]:
    """The causality values counted as related: every value that does not say "not related"
    (NOT RELATED, NOT SUSPECTED, UNRELATED, NONE, NO, N), so that an unclear assessment
    ("UNLIKELY", "POSSIBLE") counts as related, the conservative reading for safety."""
    return [v for v in values if not NOT_RELATED.match(v.strip())]


def severity_levels(values: list[str]) -> list[str] | None:
    """Severity levels from mildest to worst for the values of a severity variable: the
    mild/moderate/severe scale (all three, in the data's letter case) or toxicity grades 1 to 5
    in numeric order (those present); ``None`` for any other values."""
    if {v.upper() for v in values} <= set(SEVERITY_SCALE):
        style = values[0]
        case = str.upper if style.isupper() else str.title if style.istitle() else str.lower
        by_upper = {v.upper(): v for v in values}
        return [by_upper.get(s, case(s)) for s in SEVERITY_SCALE]
    grades = [GRADE.match(v) for v in values]
    if all(grades):
        return [v for _, v in sorted(zip((int(g.group(1)) for g in grades), values,
                                         strict=True))]
    return None


class EventBlocks(Base):
    """Time-to-event, safety and binary-endpoint blocks."""

    def tte_block(self) -> None:
        d = self.data
        if not d.has("adtte", "PARAMCD", "AVAL", "CNSR"):
            if "adtte" in d.frames:
                self.note("no time-to-event analyses: ADTTE lacks PARAMCD, AVAL or CNSR")
            return
        frame = d.frames["adtte"]
        paramcd = d.text("adtte", "PARAMCD")
        population = self.result.primary_population
        pop_flag = self.populations[population]["flag"]
        adsl = d.frames["adsl"]
        members = set(adsl.loc[(d.text("adsl", pop_flag) == "Y").to_numpy(), "USUBJID"]) \
            if "USUBJID" in adsl else set()
        entries, used = [], set()
        for code in d.known("adtte", "PARAMCD"):
            rows = (paramcd == code).to_numpy()
            if not rows.any():
                continue
            cnsr = as_text(frame.loc[rows, "CNSR"])
            aval = pd.to_numeric(frame.loc[rows, "AVAL"], errors="coerce")
            if cnsr.isna().any() or not set(cnsr) <= {"0", "1"}:
                self.note(f"time to event {code}: CNSR is not 0 or 1 on every record; left out")
                continue
            if aval.isna().any() or (aval < 0).any():
                self.note(f"time to event {code}: AVAL is missing or negative; left out")
                continue
            if "USUBJID" in frame and not frame.loc[rows, "USUBJID"].isin(members).any():
                self.note(f"time to event {code}: no subject of population {population}; "
                          "left out")
                continue
            ident = name_of(code, f"TTE{len(entries) + 1}")
            if ident in used:
                ident = f"{ident}-{len(entries) + 1}"
            used.add(ident)
            label = code
            if d.has("adtte", "PARAM"):
                params = list(dict.fromkeys(as_text(frame.loc[rows, "PARAM"]).dropna()))
                label = UNIT_IN_LABEL.sub("", params[0]) if params else code
            unit, unit_note = "days", "no AVALU: times taken as days"
            if d.has("adtte", "AVALU"):
                units = list(dict.fromkeys(as_text(frame.loc[rows, "AVALU"]).dropna()))
                mapped = {TIME_UNITS.get(u.upper()) for u in units}
                if len(mapped) == 1 and None not in mapped:
                    unit, unit_note = mapped.pop(), ""
                else:
                    self.note(f"time to event {code}: AVALU {units} is not one unit of days, "
                              "weeks, months or years; left out")
                    continue
            entry: dict[str, Any] = {"id": ident, "label": label, "dataset": "adtte",
                                     "paramcd": code, "population": population,
                                     "time_unit": unit}
            if unit in MONTHS_FROM and float(aval.max()) >= MONTHS_FROM[unit]:
                entry["display_unit"] = "months"
            if unit_note:
                self.note(f"time to event {code}: {unit_note}")
                self.todo(f"time_to_event {ident}: confirm the time unit (days assumed: "
                          "ADTTE has no AVALU)")
            entries.append(entry)
        if entries:
            self.result.mapping["time_to_event"] = entries

    def safety_block(self) -> None:
        d = self.data
        if "adae" not in d.frames:
            self.note("no safety tables: no ADAE dataset")
            return
        missing = [v for v in ("USUBJID", "AEBODSYS", "AEDECOD", "AESER")
                   if not d.has("adae", v)]
        if missing:
            self.note(f"no safety tables: ADAE lacks {', '.join(missing)}")
            return
        safety: dict[str, Any] = {"population": self.population_of("SAF"), "dataset": "adae"}
        if safety["population"] != "SAF":
            self.note(f"adverse events are counted in population {safety['population']}: "
                      "ADSL has no usable SAFFL")
        if d.has("adae", "TRTEMFL") and "Y" in d.known("adae", "TRTEMFL"):
            safety["treatment_emergent_flag"] = "TRTEMFL"
        else:
            safety["treatment_emergent_flag"] = None
            self.note("ADAE has no TRTEMFL: every adverse event record is counted")
            self.todo("safety.treatment_emergent_flag: ADAE has no TRTEMFL, so every record "
                      "counts as treatment-emergent; confirm")
        if "Y" not in d.known("adae", "AESER"):
            self.note("no safety tables: AESER has no value Y (in the data or its codelist)")
            return
        safety["serious"] = {"variable": "AESER", "value": "Y"}
        related = d.first("adae", "AREL", "AEREL")
        if related is not None:
            values = related_values(d.known("adae", related))
            if values:
                safety["related"] = {"variable": related, "values": values}
                self.comment("TODO confirm: the values counted as related", "safety",
                             "related")
                self.todo(f"safety.related: confirm the {related} values counted as related: "
                          + ", ".join(values) + " (every value not meaning 'not related')")
        severity = self._severity()
        if severity is not None:
            safety["severity"] = severity
        if d.has("adae", "AEOUT") and "FATAL" in d.known("adae", "AEOUT"):
            safety["fatal"] = {"variable": "AEOUT", "value": "FATAL"}
        elif d.has("adae", "AESDTH") and "Y" in d.known("adae", "AESDTH"):
            safety["fatal"] = {"variable": "AESDTH", "value": "Y"}
        if d.has("adae", "AEACN") and "DRUG WITHDRAWN" in d.known("adae", "AEACN"):
            safety["leading_to_discontinuation"] = {"variable": "AEACN",
                                                    "value": "DRUG WITHDRAWN"}
        safety["soc"], safety["term"] = "AEBODSYS", "AEDECOD"
        if d.has("adae", "AEOUT"):
            safety["outcome"] = "AEOUT"
        start = d.first("adae", "ASTDY", "AESTDY")
        if start is not None:
            safety["start_day"] = start
        if self.reference is not None:
            safety["statistics"] = {"test": "fisher", "difference_method": "newcombe",
                                    "conf_level": 0.95}
            self.comment("against the reference arm", "safety", "statistics")
        self.result.mapping["safety"] = safety

    def _severity(self) -> dict[str, Any] | None:
        d = self.data
        for name in ("ASEV", "AESEV", "ATOXGR", "AETOXGR"):
            if not d.has("adae", name):
                continue
            values = d.known("adae", name)
            if not values:
                continue
            levels = severity_levels(values)
            if levels is None:
                self.note(f"no severity tables: {name} values are neither mild/moderate/severe "
                          f"nor grades 1 to 5 ({', '.join(values[:6])})")
                return None
            self.comment("mildest first; the last is 'the worst severity'", "safety",
                         "severity")
            self.note(f"severity from {name}: {' < '.join(levels)}")
            return {"variable": name, "levels": levels}
        return None

    def endpoint_example(self) -> None:
        d = self.data
        bds = [r for r in d.frames if r not in ("adsl", "adae", "adtte")
               and d.has(r, "PARAMCD", "AVALC")]
        lines = ["# endpoints:   # TODO binary endpoints cannot be inferred from the data: "
                 "write them from the SAP, e.g."]
        population = self.result.primary_population
        if bds:
            role = bds[0]
            params = d.known(role, "PARAMCD")
            frame, paramcd = d.frames[role], d.text(role, "PARAMCD")
            example, values, visit = "RESP", ["Y"], "12"
            for code in params:  # the first parameter with a coded result (AVALC)
                rows = (paramcd == code).to_numpy()
                found = list(dict.fromkeys(as_text(frame.loc[rows, "AVALC"]).dropna()))
                if found:
                    example, values = code, (["Y"] if "Y" in found else found[:1])
                    if "AVISITN" in frame:
                        visits = as_text(frame.loc[rows, "AVISITN"]).dropna()
                        visit = visits.iloc[-1] if len(visits) else visit
                    break
            lines += [f"#   binary:   # parameters of {role}: {', '.join(params[:8])}",
                      "#     - {id: RESP, label: Response at visit " + visit
                      + f", population: {population}, dataset: {role},",
                      "#        responder: {paramcd: " + example + ", visit: " + visit
                      + ", values: " + flow(values) + "}, primary: true}"]
        else:
            lines += ["#   binary:",
                      "#     - {id: RESP, label: Response at week 12, population: "
                      f"{population}, dataset: adrs,",
                      "#        responder: {paramcd: RESP, visit: 12, values: [Y]}, "
                      "primary: true}"]
        self.result.commented["endpoints"] = lines
        self.todo("endpoints.binary: responder endpoints are not inferred; write them from "
                  "the SAP and add an output of type binary_endpoints"
                  + (f" (dataset {bds[0]} has PARAMCD and AVALC)" if bds else ""))
