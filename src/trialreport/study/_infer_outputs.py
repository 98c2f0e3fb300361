"""The numbered outputs the inferred definition supports (ICH E3 section 14 numbering)."""

from __future__ import annotations

import re
from typing import Any

from trialreport.study._infer_base import lower_first

__all__ = ["numbered_outputs"]


def numbered_outputs(m: dict[str, Any], populations: dict[str, dict[str, Any]],
                     primary: str) -> list[dict[str, Any]]:
    """Outputs for the blocks of definition ``m``: 14.1.x patients, 14.2.x efficacy, 14.3.x
    safety (tables and figures numbered apart), listing 14.3.2 of serious adverse events."""
    out: list[dict[str, Any]] = []
    counters: dict[tuple[str, str], int] = {}

    def add(section: str, kind: str, **entry: Any) -> None:
        counters[(section, kind)] = counters.get((section, kind), 0) + 1
        out.append({"id": f"{section}.{counters[(section, kind)]}", **entry})

    if "disposition" in m:
        add("14.1", "figure", name="consort", type="consort",
            title="CONSORT 2010 flow diagram")
        rand = next(c for c, p in populations.items()
                    if p["flag"] == m["disposition"]["randomised_flag"])
        add("14.1", "table", name="disposition", type="disposition",
            title="Disposition of randomised patients", population=rand)
    add("14.1", "table", name="analysis_sets", type="population_sets",
        title="Analysis sets", population=next(iter(populations)))
    if "baseline" in m:
        add("14.1", "table", name="baseline", type="baseline",
            title="Demographic and baseline characteristics", population=primary)
    if "exposure" in m:
        add("14.1", "table", name="exposure", type="exposure",
            title="Extent of exposure", population=m["exposure"]["population"])
    for tte in m.get("time_to_event", []):
        slug = re.sub(r"[^a-z0-9]+", "_", tte["id"].lower()).strip("_")
        add("14.2", "table", name=f"tte_{slug}", type="time_to_event", param=tte["id"],
            title=f"{tte['label']} (Kaplan-Meier estimates)", population=primary)
        add("14.2", "figure", name=f"km_{slug}", type="km", param=tte["id"],
            title=f"Kaplan-Meier estimate of {lower_first(tte['label'])} by arm",
            population=primary)
    safety = m.get("safety")
    if safety is not None:
        pop = safety["population"]
        add("14.3", "table", name="ae_overview", type="ae_overview",
            title="Overview of treatment-emergent adverse events", population=pop)
        add("14.3", "table", name="teae_soc_pt", type="ae_soc_pt", filter="all",
            title="Treatment-emergent adverse events by system organ class and preferred "
                  "term", population=pop)
        if "severity" in safety:
            add("14.3", "table", name="teae_severity", type="ae_severity",
                title="Treatment-emergent adverse events by system organ class, preferred "
                      "term and maximum severity", population=pop)
        subsets = (("related", "related_soc_pt", "related",
                    "Related treatment-emergent adverse events"),
                   ("serious", "sae_soc_pt", "serious", "Serious adverse events"),
                   ("fatal", "fatal_soc_pt", "fatal", "Adverse events with fatal outcome"),
                   ("leading_to_discontinuation", "disc_soc_pt",
                    "leading_to_discontinuation",
                    "Adverse events leading to discontinuation of study treatment"))
        for setting, name, kind, title in subsets:
            if setting in safety:
                add("14.3", "table", name=name, type="ae_soc_pt", filter=kind,
                    statistics=False, title=f"{title} by system organ class and preferred "
                                            "term", population=pop)
        columns = ["soc", "pt"] + [col for col, key in
                                   (("start_day", "start_day"),
                                    ("severity_text", "severity"),
                                    ("relatedness", "related"),
                                    ("outcome", "outcome")) if key in safety]
        out.append({"id": "14.3.2", "name": "sae_listing", "type": "ae_listing",
                    "filter": "serious", "columns": columns,
                    "title": "Listing of serious adverse events", "population": pop})
    return out
