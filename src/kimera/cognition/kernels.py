"""Numba kernels of the contradiction engine: exact L and S from bitsets or sorted rows, tile screening,
and the float64 decision of every candidate pair."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

# Mode of the key data: bitsets (fast, bounded vocabulary) or sorted CSR rows merged pair by pair.
BITS, MERGE = 0, 1
_ONE = np.uint64(1)


def _popcount(typingctx: Any, x: Any) -> Any:
    """Number of set bits of a uint64 (one POPCNT instruction), as int64."""
    if x != types.uint64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return types.int64(types.uint64), codegen


popcount: Any = intrinsic(_popcount)


@njit(cache=True)
def build_bits(sp, sk, ws, yp, yk, ykind, ypair, wy, wq):  # type: ignore[no-untyped-def]
    """One row of uint64 words per geoid: semantic keys (ws words), then the symbolic sets present, true,
    false, positive, negative, string (wy words each), then shared (key, string) pairs (wq words)."""
    n = sp.shape[0] - 1
    bits = np.zeros((n, ws + 6 * wy + wq), dtype=np.uint64)
    for r in range(n):
        for x in range(sp[r], sp[r + 1]):
            k = sk[x]
            bits[r, k >> 6] |= _ONE << np.uint64(k & 63)
        for x in range(yp[r], yp[r + 1]):
            k = yk[x]
            w = k >> 6
            m = _ONE << np.uint64(k & 63)
            bits[r, ws + w] |= m
            kd = ykind[x]
            if kd <= 4:
                bits[r, ws + kd * wy + w] |= m  # 1 true, 2 false, 3 positive, 4 negative
            elif kd == 6:
                bits[r, ws + 5 * wy + w] |= m
                q = ypair[x]
                if q >= 0:
                    bits[r, ws + 6 * wy + (q >> 6)] |= _ONE << np.uint64(q & 63)
    return bits


@njit(cache=True, inline="always")
def _pc(bits, i, j, a, b, w):  # type: ignore[no-untyped-def]
    """popcount of (row i, words a..a+w) AND (row j, words b..b+w)."""
    c = 0
    for x in range(w):
        c += popcount(bits[i, a + x] & bits[j, b + x])
    return c


@njit(cache=True, inline="always")
def _ls_bits(i, j, size, bits, ws, wy, wq):  # type: ignore[no-untyped-def]
    """(L, S) of one pair from bitsets: overlaps, common keys and oppositions are all popcounts."""
    o = _pc(bits, i, j, 0, 0, ws)
    u = size[i] + size[j] - o
    lv = 0.0 if u == 0 else 1.0 - o / u
    c = _pc(bits, i, j, ws, ws, wy)
    if c == 0:
        return lv, 0.0
    t, f, pos, neg, st = ws + wy, ws + 2 * wy, ws + 3 * wy, ws + 4 * wy, ws + 5 * wy
    opp = (
        _pc(bits, i, j, t, f, wy)
        + _pc(bits, i, j, f, t, wy)
        + _pc(bits, i, j, pos, neg, wy)
        + _pc(bits, i, j, neg, pos, wy)
    )
    # twice the opposition sum: exact integer (strings that differ count 1, the others 2)
    opp2 = 2 * opp + _pc(bits, i, j, st, st, wy) - _pc(bits, i, j, st + wy, st + wy, wq)
    return lv, 0.5 * opp2 / c


@njit(cache=True, inline="always")
def _ls_merge(i, j, size, sp, sk, yp, yk, ykind, ycode):  # type: ignore[no-untyped-def]
    """(L, S) of one pair by merging sorted key rows (any vocabulary size)."""
    a, ae, b, be = sp[i], sp[i + 1], sp[j], sp[j + 1]
    o = 0
    while a < ae and b < be:
        x, y = sk[a], sk[b]
        if x == y:
            o += 1
            a += 1
            b += 1
        elif x < y:
            a += 1
        else:
            b += 1
    u = size[i] + size[j] - o
    lv = 0.0 if u == 0 else 1.0 - o / u
    a, ae, b, be = yp[i], yp[i + 1], yp[j], yp[j + 1]
    c = 0
    opp2 = 0
    while a < ae and b < be:
        x, y = yk[a], yk[b]
        if x == y:
            c += 1
            ka, kb = ykind[a], ykind[b]
            if (
                (ka == 1 and kb == 2)
                or (ka == 2 and kb == 1)
                or (ka == 3 and kb == 4)
                or (ka == 4 and kb == 3)
            ):
                opp2 += 2
            elif ka == 6 and kb == 6 and ycode[a] != ycode[b]:
                opp2 += 1
            a += 1
            b += 1
        elif x < y:
            a += 1
        else:
            b += 1
    sv = 0.0 if c == 0 else 0.5 * opp2 / c
    return lv, sv


@njit(cache=True)
def reciprocals(n):  # type: ignore[no-untyped-def]
    """Tables `inv[k] = 1/k` and `pos[k] = (k > 0)` for k < n (inv[0] = 0): divisions become products."""
    inv = np.zeros(n, dtype=np.float64)
    pos = np.zeros(n, dtype=np.float64)
    for k in range(1, n):
        inv[k] = 1.0 / k
        pos[k] = 1.0
    return inv, pos


@njit(cache=True, inline="always")
def _ls_w1(i, j, size, bits):  # type: ignore[no-untyped-def]
    """(L, S) of one pair when every bitset is one word (the common case): exact, branch-free."""
    bi, bj = bits[i], bits[j]
    o = popcount(bi[0] & bj[0])
    u = size[i] + size[j] - o
    lv = 0.0 if u == 0 else 1.0 - o / u
    c = popcount(bi[1] & bj[1])
    opp2 = 2 * (
        popcount(bi[2] & bj[3]) + popcount(bi[3] & bj[2]) + popcount(bi[4] & bj[5]) + popcount(bi[5] & bj[4])
    )
    opp2 += popcount(bi[6] & bj[6]) - popcount(bi[7] & bj[7])
    return lv, (0.0 if c == 0 else 0.5 * opp2 / c)


@njit(cache=True, inline="always")
def _screen_row_w1(r, i, j0, start, bj, cos, hasf, size, bits, inv, pos, we, wl, ws, thr_lo, cand):  # type: ignore[no-untyped-def]
    """One tile row when every bitset is one word: branch-free, i's words hoisted, divisions as products."""
    si = size[i]
    sm, pr, tr, fl, ps, ng, st, qq = (
        bits[i, 0], bits[i, 1], bits[i, 2], bits[i, 3], bits[i, 4], bits[i, 5], bits[i, 6], bits[i, 7],
    )  # fmt: skip
    hw = hasf[i] * we
    c = 0
    # unsigned indices: numba emits no negative-index wraparound checks
    crow = cos[r]
    out = cand[r]
    uj0 = np.uint64(j0)
    for col in range(start, bj):
        uc = np.uint64(col)
        j = uj0 + uc
        o = popcount(sm & bits[j, 0])
        u = np.uint64(si + size[j] - o)
        lv = pos[u] - o * inv[u]
        opp2 = 2 * (
            popcount(tr & bits[j, 3])
            + popcount(fl & bits[j, 2])
            + popcount(ps & bits[j, 5])
            + popcount(ng & bits[j, 4])
        )
        opp2 += popcount(st & bits[j, 6]) - popcount(qq & bits[j, 7])
        sv = 0.5 * opp2 * inv[np.uint64(popcount(pr & bits[j, 1]))]
        e = (1.0 - min(max(np.float64(crow[uc]), 0.0), 1.0)) * (hw * hasf[j])
        out[np.uint64(c)] = col
        c += e + wl * lv + ws * sv >= thr_lo
    return c


@njit(cache=True, nogil=True)
def screen_rows(r0, r1, cos, i0, j0, diag, has, mode, data, we, wl, ws, thr_lo, cand, counts):  # type: ignore[no-untyped-def]
    """Rows r0..r1 of a tile: the columns whose tension (float32 cos, exact L and S) reaches `thr_lo`."""
    bj = cos.shape[1]
    size, bits, nws, nwy, nwq, sp, sk, yp, yk, ykind, ycode = data
    one_word = mode == BITS and nws == 1 and nwy == 1 and nwq == 1
    hasf = has.astype(np.float64)
    top = 2 * (np.max(size) if size.shape[0] else 0) + 64 * nwy + 2
    inv, pos = reciprocals(top)
    for r in range(r0, r1):
        i = i0 + r
        start = r + 1 if diag else 0
        if one_word:
            counts[r] = _screen_row_w1(
                r, i, j0, start, bj, cos, hasf, size, bits, inv, pos, we, wl, ws, thr_lo, cand
            )
            continue
        hi = has[i]
        c = 0
        for col in range(start, bj):
            j = j0 + col
            e = 0.0
            if hi and has[j]:
                e = 1.0 - min(max(np.float64(cos[r, col]), 0.0), 1.0)
            if mode == BITS:
                lv, sv = _ls_bits(i, j, size, bits, nws, nwy, nwq)
            else:
                lv, sv = _ls_merge(i, j, size, sp, sk, yp, yk, ykind, ycode)
            cand[r, c] = col
            c += we * e + wl * lv + ws * sv >= thr_lo
        counts[r] = c


@njit(cache=True)
def gather(cand, counts, rows, i0, j0):  # type: ignore[no-untyped-def]
    """Flatten per-row candidate columns of a tile into global (i, j) index arrays, row-major."""
    total = 0
    for r in range(rows):
        total += counts[r]
    ci = np.empty(total, dtype=np.int64)
    cj = np.empty(total, dtype=np.int64)
    p = 0
    for r in range(rows):
        for c in range(counts[r]):
            ci[p] = i0 + r
            cj[p] = j0 + cand[r, c]
            p += 1
    return ci, cj


@njit(fastmath={"reassoc", "contract"}, cache=True)
def _dot64(a, b):  # type: ignore[no-untyped-def]
    """Dot product of two float32 vectors accumulated in float64 (vectorised)."""
    acc = 0.0
    for k in range(a.shape[0]):
        acc += np.float64(a[k]) * np.float64(b[k])
    return acc


@njit(cache=True, nogil=True)
def exact_pairs(
    p0, p1, ci, cj, cos64, emb, norm, has, mode, data, we, wl, ws, thr, out_t, out_e, out_l, out_s, keep
):  # type: ignore[no-untyped-def]
    """Float64 E, L, S and T of candidates p0..p1, and whether T >= thr (the final decision)."""
    use_cos = cos64.shape[0] > 0
    size, bits, nws, nwy, nwq, sp, sk, yp, yk, ykind, ycode = data
    one_word = mode == BITS and nws == 1 and nwy == 1 and nwq == 1
    for p in range(p0, p1):
        i, j = ci[p], cj[p]
        e = 0.0
        if has[i] and has[j]:
            if norm[i] == 0.0 or norm[j] == 0.0:
                e = 1.0
            else:
                cs = cos64[p] if use_cos else _dot64(emb[i], emb[j]) / (norm[i] * norm[j])
                e = min(1.0, max(0.0, 1.0 - cs))
        if one_word:
            lv, sv = _ls_w1(i, j, size, bits)
        elif mode == BITS:
            lv, sv = _ls_bits(i, j, size, bits, nws, nwy, nwq)
        else:
            lv, sv = _ls_merge(i, j, size, sp, sk, yp, yk, ykind, ycode)
        t = we * e + wl * lv + ws * sv
        out_t[p] = t
        out_e[p] = e
        out_l[p] = lv
        out_s[p] = sv
        keep[p] = t >= thr


@njit(cache=True, nogil=True)
def scatter_part(i, j, t, e, l_, s, cursor, oi, oj, ot, oe, ol, os_):  # type: ignore[no-untyped-def]
    """Copy one part's pairs to the next free slots of their rows in the (i, j)-ordered output (a stable
    counting sort when parts arrive in column-tile order); `cursor` advances in place."""
    for k in range(i.shape[0]):
        r = i[k]
        p = cursor[r]
        cursor[r] = p + 1
        oi[p] = r
        oj[p] = j[k]
        ot[p] = t[k]
        oe[p] = e[k]
        ol[p] = l_[k]
        os_[p] = s[k]


@njit(fastmath={"reassoc", "contract"}, cache=True, nogil=True)
def unit_rows(r0, r1, emb, norm, unit):  # type: ignore[no-untyped-def]
    """Rows r0..r1: float64 norms and float32 unit vectors (zero rows stay zero)."""
    d = emb.shape[1]
    for r in range(r0, r1):
        sq = 0.0
        for k in range(d):
            v = np.float64(emb[r, k])
            sq += v * v
        nr = np.sqrt(sq)
        norm[r] = nr
        inv = 1.0 / nr if nr > 0.0 else 0.0
        for k in range(d):
            unit[r, k] = np.float32(np.float64(emb[r, k]) * inv)
