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

__all__ = ["ANY", "codes_of", "count_soc_pt"]

ANY = "ANY"


def _pct(subjects: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 100.0 * subjects / np.where(n > 0, n, 1), np.nan)


def codes_of(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (int64, -1 = missing) and the values they stand for; categoricals use
    their own codes (no pass over the records)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return (column.cat.codes.to_numpy().astype(np.int64),
                np.asarray(column.cat.categories, dtype=object))
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _first(keys: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each integer key (a hash pass, no sort)."""
    return ~pd.Series(keys, copy=False).duplicated().to_numpy()


def _subjects_events(ae: pd.DataFrame, mask: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Subjects and events per arm (length k + 1, last = total) among ``ae[mask]``."""
    codes = ae["arm"].cat.codes.to_numpy()[mask]
    subject, _ = codes_of(ae["subject"])
    first = _first(subject[mask])
    events = np.bincount(codes, minlength=k)
    subjects = np.bincount(codes[first], minlength=k)
    return np.append(subjects, subjects.sum()), np.append(events, events.sum())


def _per_key(key: np.ndarray, n_keys: int, subject: np.ndarray, arm: np.ndarray,
             k: int) -> tuple[np.ndarray, np.ndarray]:
    """Patients and events per (key, arm): ``n_keys x k`` arrays."""
    cell = key * k + arm
    events = np.bincount(cell, minlength=n_keys * k).reshape(n_keys, k)
    first = _first(subject * n_keys + key)
    subjects = np.bincount(cell[first], minlength=n_keys * k).reshape(n_keys, k)
    return subjects, events


def count_soc_pt(ae: pd.DataFrame, arms: Sequence[str]) -> tuple[list[tuple[str, str]],
                                                                  np.ndarray, np.ndarray]:
    """Patients and events per (SOC, PT) block and arm (+ total column).

    Returns ``(keys, subjects, events)``: ``keys`` are ``("ANY", "")``, then each SOC
    ``(soc, "")`` followed by its PTs ``(soc, pt)``, SOCs and PTs by decreasing total
    patients, then alphabetically; ``subjects``/``events`` are ``len(keys) x (k + 1)``.
    Counted on integer codes (one ``bincount`` per level), so millions of records take well
    under a second.
    """
    k = len(arms)
    any_s, any_e = _subjects_events(ae, np.ones(len(ae), dtype=bool), k)
    keys: list[tuple[str, str]] = [(ANY, "")]
    subj_rows, event_rows = [any_s], [any_e]
    if len(ae):
        arm = ae["arm"].cat.codes.to_numpy().astype(np.int64)
        subject, _ = codes_of(ae["subject"])
        soc, soc_names = codes_of(ae["soc"])
        pt, pt_names = codes_of(ae["pt"])
        n_soc = len(soc_names)
        pair, pairs = pd.factorize(soc * len(pt_names) + pt)
        pair = pair.astype(np.int64)
        pair_soc = np.asarray(pairs, dtype=np.int64) // len(pt_names)
        pair_pt = np.asarray(pairs, dtype=np.int64) % len(pt_names)
        soc_s, soc_e = _per_key(soc, n_soc, subject, arm, k)
        pt_s, pt_e = _per_key(pair, len(pairs), subject, arm, k)
        soc_tot, pt_tot = soc_s.sum(axis=1), pt_s.sum(axis=1)
        present = np.flatnonzero(soc_e.sum(axis=1) > 0)
        order = sorted(present, key=lambda i: (-int(soc_tot[i]), str(soc_names[i]).casefold()))
        pts_of: dict[int, list[int]] = {}
        for j in np.flatnonzero(pt_e.sum(axis=1) > 0):
            pts_of.setdefault(int(pair_soc[j]), []).append(int(j))
        for i in order:
            keys.append((str(soc_names[i]), ""))
            subj_rows.append(np.append(soc_s[i], soc_s[i].sum()))
            event_rows.append(np.append(soc_e[i], soc_e[i].sum()))
            for j in sorted(pts_of.get(int(i), []),
                            key=lambda j: (-int(pt_tot[j]), str(pt_names[pair_pt[j]]).casefold())):
                keys.append((str(soc_names[i]), str(pt_names[pair_pt[j]])))
                subj_rows.append(np.append(pt_s[j], pt_s[j].sum()))
                event_rows.append(np.append(pt_e[j], pt_e[j].sum()))
    return keys, np.vstack(subj_rows).astype(float), np.vstack(event_rows).astype(float)
