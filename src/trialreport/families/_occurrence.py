"""Counting occurrence data (one record per event) by a two-level hierarchy and arm.

Adverse events by system organ class and preferred term, protocol deviations by category and
term, concomitant medications by class and name: patients are counted once per row, events each
time they occur. The input frame has ``subject``, ``arm`` (categorical in study order) and the
two levels as ``soc`` and ``pt``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["ANY", "count_soc_pt"]

ANY = "ANY"


def _pct(subjects: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 100.0 * subjects / np.where(n > 0, n, 1), np.nan)


def _subjects_events(ae: pd.DataFrame, mask: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Subjects and events per arm (length k + 1, last = total) among ``ae[mask]``."""
    codes = ae["arm"].cat.codes.to_numpy()[mask]
    first = ~pd.Series(ae["subject"].to_numpy()[mask]).duplicated().to_numpy()
    events = np.bincount(codes, minlength=k)
    subjects = np.bincount(codes[first], minlength=k)
    return np.append(subjects, subjects.sum()), np.append(events, events.sum())


def count_soc_pt(ae: pd.DataFrame, arms: Sequence[str]) -> tuple[list[tuple[str, str]],
                                                                  np.ndarray, np.ndarray]:
    """Patients and events per (SOC, PT) block and arm (+ total column).

    Returns ``(keys, subjects, events)``: ``keys`` are ``("ANY", "")``, then each SOC
    ``(soc, "")`` followed by its PTs ``(soc, pt)``, SOCs and PTs by decreasing total
    patients, then alphabetically; ``subjects``/``events`` are ``len(keys) x (k + 1)``.
    """
    k = len(arms)
    any_s, any_e = _subjects_events(ae, np.ones(len(ae), dtype=bool), k)
    keys: list[tuple[str, str]] = [(ANY, "")]
    subj_rows, event_rows = [any_s], [any_e]
    if len(ae):
        def per(cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
            ev = ae.groupby([*cols, "arm"], observed=False, sort=False).size()
            su = ae.drop_duplicates(["subject", *cols]).groupby(
                [*cols, "arm"], observed=False, sort=False).size()
            ev = ev.unstack("arm").reindex(columns=list(arms), fill_value=0).fillna(0)
            su = su.unstack("arm").reindex(columns=list(arms), fill_value=0).fillna(0)
            present = ev.sum(axis=1) > 0
            return su.loc[present.to_numpy()], ev.loc[present.to_numpy()]

        soc_s, soc_e = per(["soc"])
        pt_s, pt_e = per(["soc", "pt"])
        soc_tot = soc_s.sum(axis=1)
        pt_tot = pt_s.sum(axis=1)
        pts_of: dict[str, list[str]] = {}
        for soc, pt in pt_s.index:
            pts_of.setdefault(soc, []).append(pt)
        for soc in sorted(soc_s.index, key=lambda x: (-int(soc_tot[x]), str(x).casefold())):
            keys.append((str(soc), ""))
            subj_rows.append(np.append(soc_s.loc[soc].to_numpy(), soc_s.loc[soc].sum()))
            event_rows.append(np.append(soc_e.loc[soc].to_numpy(), soc_e.loc[soc].sum()))
            for pt in sorted(pts_of.get(soc, []),
                             key=lambda p, soc=soc: (-int(pt_tot[(soc, p)]), str(p).casefold())):
                keys.append((str(soc), str(pt)))
                row_s, row_e = pt_s.loc[(soc, pt)].to_numpy(), pt_e.loc[(soc, pt)].to_numpy()
                subj_rows.append(np.append(row_s, row_s.sum()))
                event_rows.append(np.append(row_e, row_e.sum()))
    return keys, np.vstack(subj_rows).astype(float), np.vstack(event_rows).astype(float)


