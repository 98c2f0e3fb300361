"""Strict checks for arrays of 2 x 2 tables given as (n1, N1, n2, N2)."""

from __future__ import annotations

import numpy as np

__all__ = ["two_group_counts"]


def two_group_counts(n1, N1, n2, N2) -> tuple[tuple[int, ...], tuple[np.ndarray, ...]]:
    """Broadcast shape and flat int64 arrays ``(n1, N1, n2, N2)``.

    Every entry must be a non-negative whole number and ``n <= N``; otherwise a
    ``ValueError`` names the array and the (flat) index of the first bad entry.
    """
    given = {"n1": n1, "N1": N1, "n2": n2, "N2": N2}
    try:
        shape = np.broadcast_shapes(*(np.shape(v) for v in given.values()))
    except ValueError as exc:
        raise ValueError(f"n1, N1, n2, N2 do not broadcast to one shape: {exc}") from None
    out = []
    for name, value in given.items():
        v = np.broadcast_to(np.asarray(value), shape).ravel()
        if v.dtype == bool or v.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold counts (numbers), got dtype {v.dtype}")
        as_float = v.astype(float)
        bad = ~np.isfinite(as_float) | (as_float < 0) | (as_float != np.round(as_float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] = {v[i].item()!r} is not a non-negative whole number")
        out.append(as_float.astype(np.int64))
    a, m1, c, m2 = out
    for name, n, N in (("n1", a, m1), ("n2", c, m2)):
        over = n > N
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise ValueError(f"{name}[{i}] = {n[i]} exceeds its number of subjects {N[i]}")
    return shape, (a, m1, c, m2)
