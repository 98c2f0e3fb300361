"""Exact Fisher(-Freeman-Halton) p-value for r x c tables by a network algorithm.

Written here because SciPy (1.17) has no exact r x c algorithm: ``scipy.stats.fisher_exact``
on a larger table returns an unseeded Monte Carlo estimate. pingouin and statsmodels have
none either. Public entry point: :func:`trialreport.stats.fisher_exact_rxc`.

References
----------
Mehta CR, Patel NR (1983). A network algorithm for performing Fisher's exact test in r x c
contingency tables. J Am Stat Assoc 78:427-434.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

__all__ = ["BudgetExceeded", "fisher_rxc_exact_pvalue"]

# R's fisher.test treats tables whose probability is within a relative 1e-7 of the
# observed table's probability as "as extreme" (guards against floating-point ties).
REL_TOL = 1e-7


class BudgetExceeded(Exception):
    """The exact computation would need more work than its budget allows."""


def _compositions(total: int, caps: np.ndarray) -> np.ndarray:
    """All integer vectors x with 0 <= x <= caps and sum(x) == total, one per row."""
    r = len(caps)
    suffix = np.concatenate([np.cumsum(caps[::-1])[::-1], [0]])  # suffix[i] = sum caps[i:]
    partial = np.zeros((1, 0), dtype=np.int64)
    left = np.array([total], dtype=np.int64)
    for i in range(r - 1):
        lo = np.maximum(0, left - suffix[i + 1])
        hi = np.minimum(caps[i], left)
        cnt = hi - lo + 1
        idx = np.repeat(np.arange(len(left)), cnt)
        offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        xi = lo[idx] + offs
        partial = np.column_stack([partial[idx], xi])
        left = left[idx] - xi
    return np.column_stack([partial, left])


def _lagrange_max(a: np.ndarray, b: np.ndarray, lgf: np.ndarray) -> float:
    """Upper bound on max -sum(log x_ij!) over tables with row sums a, column sums b.

    Lagrangian relaxation of the row constraints with multipliers -log(a_i) (their
    optimum for large counts, where the maximising table is ~ a_i b_j / N). Each
    column subproblem max sum_i [x_i log a_i - log x_i!] s.t. sum_i x_i = b_j is solved
    exactly by the greedy (D'Hondt) allocation: x_i = floor(a_i b_j / A), then the
    remaining units go one at a time to the largest a_i / (x_i + 1). Weak duality makes
    the result a valid upper bound for any multipliers.
    """
    a = a[a > 0].astype(np.int64)
    b = b[b > 0].astype(np.int64)
    if len(a) == 0 or len(b) == 0:
        return 0.0
    big_a = int(a.sum())
    x = (a[:, None] * b[None, :]) // big_a
    short = b - x.sum(axis=0)
    cols = np.arange(len(b))
    while np.any(short > 0):
        need = short > 0
        pick = np.argmax(a[:, None] / (x + 1.0), axis=0)
        x[pick[need], cols[need]] += 1
        short = short - need
    w = np.log(a.astype(float))
    return float(-(a * w).sum() + (x * w[:, None]).sum() - lgf[x].sum())


def _spread_max(total: int, caps: np.ndarray, lgf: np.ndarray) -> float:
    """max of -sum(log x_i!) subject to sum x = total, 0 <= x <= caps (water-filling)."""
    caps = np.sort(caps)
    k = len(caps)
    value = 0.0
    left = total
    for i, cap in enumerate(caps):
        parts = k - i
        if cap * parts <= left:
            value -= lgf[cap]
            left -= cap
        else:
            q, rem = divmod(left, parts)
            return value - rem * lgf[q + 1] - (parts - rem) * lgf[q]
    return value


def _spread_min(total: int, caps: np.ndarray, lgf: np.ndarray) -> float:
    """min of -sum(log x_i!) subject to sum x = total, 0 <= x <= caps (fill largest)."""
    value = 0.0
    left = total
    for cap in np.sort(caps)[::-1]:
        take = min(cap, left)
        value -= lgf[take]
        left -= take
        if left == 0:
            break
    return value


def _future_bounds(rows: np.ndarray, cols: np.ndarray, lgf: np.ndarray) -> tuple[float, float]:
    """Upper and lower bounds on -sum(log x_ij!) over tables with margins (rows, cols).

    Upper: the tighter of the two Lagrangian bounds (relaxing row or column sums).
    Lower: each column (and, separately, each row) minimised on its own, concentrating
    its total in the largest cells; both relaxations are valid, the tighter is used.
    """
    ub = min(
        _lagrange_max(rows, cols, lgf),
        _lagrange_max(cols, rows, lgf),
        sum(_spread_max(int(b), rows, lgf) for b in cols),
        sum(_spread_max(int(a), cols, lgf) for a in rows),
    )
    lb_c = sum(_spread_min(int(b), rows, lgf) for b in cols)
    lb_r = sum(_spread_min(int(a), cols, lgf) for a in rows)
    return ub, max(lb_c, lb_r)


def _encode_rows(rows: np.ndarray) -> np.ndarray:
    """One int64 code per row of a non-negative int matrix (equal rows, equal codes)."""
    base = int(rows.max()) + 1 if rows.size else 1
    if rows.shape[1] * np.log2(base) < 62:
        weights = base ** np.arange(rows.shape[1], dtype=np.int64)
        return rows @ weights
    return np.unique(rows, axis=0, return_inverse=True)[1].ravel().astype(np.int64)


def fisher_rxc_exact_pvalue(t: np.ndarray, max_work: int) -> float:
    """Exact Fisher(-Freeman-Halton) p-value by a network algorithm.

    Columns are processed one at a time; a node is the multiset of remaining row totals
    and carries the distinct "past" values sum(-log x!) of the partial tables that reach
    it. Mehta & Patel's bounds on the remaining ("future") part let whole sub-networks
    be counted in closed form (all completions as or more extreme) or dropped (none
    are). Raises ``BudgetExceeded`` when more than ``max_work`` partial-table values
    would have to be kept.
    """
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows = np.sort(t.sum(axis=1))
    cols = np.sort(t.sum(axis=0))
    total = int(t.sum())
    lgf = gammaln(np.arange(total + 2, dtype=float) + 1.0)  # lgf[k] = log(k!)
    log_k = lgf[rows].sum() + lgf[cols].sum() - lgf[total]
    observed = -lgf[t].sum()
    threshold = observed + np.log1p(REL_TOL)
    key_scale = 1e9  # past values closer than 1e-9 (log scale) are merged

    # node -> (past values, multiplicities)
    nodes: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {
        tuple(rows.tolist()): (np.zeros(1), np.ones(1))
    }
    pvalue = 0.0
    n_cols = len(cols)
    for j in range(n_cols):
        rest = cols[j:]
        children_rows: list[np.ndarray] = []
        children_vals: list[np.ndarray] = []
        children_cnts: list[np.ndarray] = []
        work = dense_work = 0
        for node, (past, count) in nodes.items():
            rem = np.array(node, dtype=np.int64)
            if j == n_cols - 1:  # the last column is forced: x = rem
                value = past - lgf[rem].sum()
                hit = value <= threshold
                pvalue += float(np.sum(count[hit] * np.exp(value[hit] + log_k)))
                continue
            ub, lb = _future_bounds(rem, rest, lgf)
            log_all = lgf[rem.sum()] - lgf[rem].sum() - lgf[rest].sum()  # log sum 1/prod x!
            take_all = past + ub <= threshold
            if take_all.any():
                pvalue += float(np.sum(count[take_all] * np.exp(past[take_all] + log_all + log_k)))
            keep = ~take_all & (past + lb <= threshold)
            if not keep.any():
                continue
            past, count = past[keep], count[keep]
            comps = _compositions(int(rest[0]), rem)
            inc = -lgf[comps].sum(axis=1)
            if j == n_cols - 2:  # the last column is then forced: evaluate completions now
                inc = inc - lgf[rem[None, :] - comps].sum(axis=1)
                dense_work += len(comps) * len(past)
                if dense_work > 10 * max_work:
                    raise BudgetExceeded
                step = max(1, 1_000_000 // len(comps))  # bound memory per block
                for k in range(0, len(past), step):
                    value = inc[:, None] + past[None, k : k + step]
                    weight = np.where(value <= threshold, np.exp(value + log_k), 0.0)
                    pvalue += float(weight.sum(axis=0) @ count[k : k + step])
                continue
            child = np.sort(rem[None, :] - comps, axis=1)
            work += len(comps) * len(past)
            if work > max_work:
                raise BudgetExceeded
            children_rows.append(np.repeat(child, len(past), axis=0))
            children_vals.append((inc[:, None] + past[None, :]).ravel())
            children_cnts.append(np.tile(count, len(comps)))
        if not children_rows:
            break
        crow = np.concatenate(children_rows)
        cval = np.concatenate(children_vals)
        ccnt = np.concatenate(children_cnts)
        vkey = np.round(cval * key_scale).astype(np.int64)
        ncode = _encode_rows(crow)
        order = np.lexsort((vkey, ncode))
        ncode, vkey = ncode[order], vkey[order]
        new_group = np.empty(len(order), dtype=bool)
        new_group[0] = True
        new_group[1:] = (ncode[1:] != ncode[:-1]) | (vkey[1:] != vkey[:-1])
        starts = np.flatnonzero(new_group)
        merged = np.add.reduceat(ccnt[order], starts)
        vals = cval[order][starts]
        node_of = ncode[starts]
        rows_of = crow[order][starts]
        change = np.flatnonzero(node_of[1:] != node_of[:-1]) + 1
        bounds = np.concatenate([[0], change, [len(starts)]])
        nodes = {}
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            nodes[tuple(rows_of[s].tolist())] = (vals[s:e], merged[s:e])
    return min(pvalue, 1.0)
