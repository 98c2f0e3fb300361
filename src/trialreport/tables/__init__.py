"""CSR tables (ICH E3 section 14) from the analysis results data (ARD).

Each builder takes the ARD (an ``ARD`` object or its ``.frame``) and the :class:`Study` and
returns a ``great_tables.GT``; :func:`to_html` gives its deterministic HTML, and :func:`show`
builds a table from the default data for a chapter one-liner::

    from trialreport.tables import show
    show("efficacy")
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from great_tables import GT

from trialreport.study import Study
from trialreport.tables._baseline import baseline_table
from trialreport.tables._efficacy import efficacy_table
from trialreport.tables._render import to_html
from trialreport.tables._safety import ae_overview_table, sae_listing_table, sae_soc_pt_table
from trialreport.tables._tte import tte_table

__all__ = [
    "TABLES",
    "CsrTable",
    "ae_overview_table",
    "baseline_table",
    "build",
    "efficacy_table",
    "sae_listing_table",
    "sae_soc_pt_table",
    "show",
    "to_html",
    "tte_table",
]

#: Table builders by output name (study definition ``outputs.tables[].name``).
TABLES = {
    "baseline": baseline_table,
    "efficacy": efficacy_table,
    "time_to_relapse": tte_table,
    "tte": tte_table,
    "ae_overview": ae_overview_table,
    "sae_soc_pt": sae_soc_pt_table,
}


@dataclass(frozen=True)
class CsrTable:
    """A built table for display: ``gt`` plus its deterministic HTML (``_repr_html_``)."""

    name: str
    gt: GT

    @property
    def html(self) -> str:
        """The table's HTML (see :func:`to_html`)."""
        return to_html(self.gt)

    def _repr_html_(self) -> str:
        return self.html


@lru_cache(maxsize=1)
def _default() -> tuple[Any, Any]:
    """The project's own trial data and ARD (for :func:`show` without arguments)."""
    from trialreport.analysis.ard import build_ard
    from trialreport.data import load_trial

    data = load_trial()
    return data, build_ard(data)


def build(name: str, ard: Any = None, study: Study | None = None, *, data: Any = None,
          title: bool = True) -> GT:
    """The GT of output ``name`` (``baseline``, ``efficacy``, ..., ``sae_listing``).

    Without ``ard`` the project's own data are loaded; the listing needs the trial ``data``
    (records, not results). ``title=False`` keeps only the population line in the header (a
    book chapter's caption then carries the numbered title).
    """
    if ard is None or (name == "sae_listing" and data is None):
        data, default_ard = _default()
        ard = default_ard if ard is None else ard
    if study is None:
        study = data.study if data is not None else _default()[0].study
    if name == "sae_listing":
        from trialreport.analysis.safety import sae_listing

        return sae_listing_table(sae_listing(data), study, ard=ard, title=title)
    try:
        builder = TABLES[name]
    except KeyError:
        raise KeyError(f"no table named {name!r}; choose from "
                       f"{sorted([*TABLES, 'sae_listing'])}") from None
    return builder(ard, study, name=name if name in study.outputs else None, title=title)


def show(name: str, ard: Any = None, study: Study | None = None) -> CsrTable:
    """Build table ``name`` for display in a chapter (renders as deterministic HTML)."""
    return CsrTable(name, build(name, ard, study))
