"""Numba kernels of the contradiction engine: exact L and S from bitsets (popcounts and tables) or sorted
rows, and the strip passes that decide pairs in float64 and write them out."""

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


@njit(fastmath={"reassoc", "contract"}, cache=True)
def _dot64(a, b):  # type: ignore[no-untyped-def]
    """Dot product of two float32 vectors accumulated in float64 (vectorised)."""
    acc = 0.0
    for k in range(a.shape[0]):
        acc += np.float64(a[k]) * np.float64(b[k])
    return acc


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


# ---------------------------------------------------------------------------------------------------------
# Strip kernels of the CPU engine: a tile's pairs are screened, decided in float64 and written to the
# worker's strip buffer in one pass (no candidate lists, no per-tile result arrays).


@njit(cache=True)
def ratio_tables(o_max, u_max, c_max):  # type: ignore[no-untyped-def]
    """Every value L and S can take, by table: `lt[o·(u_max+1) + u] = 1 − o/u` (0 for u = 0) and
    `st[c·(2·c_max+1) + q] = 0.5·q/c` (0 for c = 0), computed with the very float64 operations of the
    reference (so a lookup is bit-identical to the division, and costs no division)."""
    lu = u_max + 1
    lt = np.zeros((o_max + 1) * lu, dtype=np.float64)
    for o in range(o_max + 1):
        for u in range(1, lu):
            lt[o * lu + u] = 1.0 - o / u
    sq = 2 * c_max + 1
    st = np.zeros((c_max + 1) * sq, dtype=np.float64)
    for c in range(1, c_max + 1):
        for q in range(sq):
            st[c * sq + q] = 0.5 * q / c
    return lt, st


@njit(fastmath={"reassoc", "contract"}, cache=True, nogil=True)
def unit64_rows(r0, r1, emb, norm, out):  # type: ignore[no-untyped-def]
    """Rows r0..r1 of the float64 unit embeddings (zero rows where missing or zero-norm)."""
    d = emb.shape[1]
    for r in range(r0, r1):
        nr = norm[r]
        if nr > 0.0:
            for k in range(d):
                out[r, k] = np.float64(emb[r, k]) / nr
        else:
            for k in range(d):
                out[r, k] = 0.0


@njit(cache=True, inline="always")
def _exact_e(i, j, emb, norm, has):  # type: ignore[no-untyped-def]
    """E of one pair in float64: 0 if an embedding is missing, 1 if one has zero norm, else clip(1 − cos)."""
    if not (has[i] and has[j]):
        return 0.0
    if norm[i] == 0.0 or norm[j] == 0.0:
        return 1.0
    cs = _dot64(emb[i], emb[j]) / (norm[i] * norm[j])
    return min(1.0, max(0.0, 1.0 - cs))


@njit(cache=True, nogil=True)
def dense_rows_w1(
    cos, r0, i0, hasf, size, bits, lt, lu, st, sq, we, wl, ws, thr, oi, oj, ot, oe, ol, os_, pos
):  # type: ignore[no-untyped-def]
    """Rows r0.. of a strip (rows i0.., columns i0..n) when every bitset is one word, decided branch-free
    in float64 and written straight to the output from `pos` on: E from the float64 GEMM `cos`, L and S
    by popcount and table (bit-identical to the divisions). Stops before a row that might not fit the
    output's capacity; returns (next row, new end)."""
    rows, cols = cos.shape
    cap = np.uint64(oi.shape[0])
    p = np.uint64(pos)
    uj0 = np.uint64(i0)
    for r in range(r0, rows):
        i = i0 + r
        if p + np.uint64(cols - r - 1) > cap:
            return r, np.int64(p)
        si = size[i]
        sm, pr, tr, fl, ps, ng, sg, qq = (
            bits[i, 0], bits[i, 1], bits[i, 2], bits[i, 3], bits[i, 4], bits[i, 5], bits[i, 6], bits[i, 7],
        )  # fmt: skip
        hi = hasf[i]
        crow = cos[r]
        lu1 = lu - 1  # o·lu + u = o·(lu − 1) + |a| + |b|
        for col in range(r + 1, cols):
            uc = np.uint64(col)
            j = uj0 + uc
            lv = lt[np.uint64(popcount(sm & bits[j, 0]) * lu1 + si + size[j])]
            # i has one kind per key, so the four opposite-kind overlaps are disjoint: one popcount
            opp = (tr & bits[j, 3]) | (fl & bits[j, 2]) | (ps & bits[j, 5]) | (ng & bits[j, 4])
            opp2 = 2 * popcount(opp) + popcount(sg & bits[j, 6]) - popcount(qq & bits[j, 7])
            sv = st[np.uint64(popcount(pr & bits[j, 1]) * sq + opp2)]
            e = (1.0 - min(max(crow[uc], 0.0), 1.0)) * (hi * hasf[j])
            t = we * e + wl * lv + ws * sv
            oi[p] = i
            oj[p] = j
            ot[p] = t
            oe[p] = e
            ol[p] = lv
            os_[p] = sv
            p += np.uint64(t >= thr)
    return rows, np.int64(p)


@njit(cache=True, nogil=True)
def dense_rows(cos, r0, i0, has, mode, data, we, wl, ws, thr, oi, oj, ot, oe, ol, os_, pos):  # type: ignore[no-untyped-def]
    """`dense_rows_w1` for any key data (multi-word bitsets or merged sorted rows), L and S by division."""
    size, bits, nws, nwy, nwq, sp, sk, yp, yk, ykind, ycode = data
    rows, cols = cos.shape
    cap = oi.shape[0]
    p = pos
    for r in range(r0, rows):
        i = i0 + r
        if p + cols - r - 1 > cap:
            return r, p
        for col in range(r + 1, cols):
            j = i0 + col
            if mode == BITS:
                lv, sv = _ls_bits(i, j, size, bits, nws, nwy, nwq)
            else:
                lv, sv = _ls_merge(i, j, size, sp, sk, yp, yk, ykind, ycode)
            e = 0.0
            if has[i] and has[j]:
                e = 1.0 - min(max(cos[r, col], 0.0), 1.0)
            t = we * e + wl * lv + ws * sv
            if t >= thr:
                oi[p] = i
                oj[p] = j
                ot[p] = t
                oe[p] = e
                ol[p] = lv
                os_[p] = sv
                p += 1
    return rows, p


@njit(cache=True, nogil=True, inline="always")
def _decide_write(i, j, lv, sv, we, wl, ws, thr, emb, norm, has, oj, ot, oe, ol, os_, p):  # type: ignore[no-untyped-def]  # fmt: skip
    """A screened candidate, decided in float64 (E from the exact dot product): written at `p` when
    T >= thr. Returns the next free position."""
    e = _exact_e(i, j, emb, norm, has)
    t = we * e + wl * lv + ws * sv
    if t >= thr:
        oj[p] = j
        ot[p] = t
        oe[p] = e
        ol[p] = lv
        os_[p] = sv
        return p + 1
    return p


@njit(cache=True, nogil=True)
def sparse_tile_w1(
    cos, i0, j0, hasf, size, bits, lt, lu, st, sq, we, wl, ws, thr_lo, thr,
    emb, norm, has, oj, ot, oe, ol, os_, pos, counts,
):  # type: ignore[no-untyped-def]  # fmt: skip
    """One tile of a strip when every bitset is one word: L and S by popcount and table (exact), E from
    the float32 `cos`; pairs that reach `thr_lo` (the proven margin of float32 cos) get E from a float64
    dot product, and those with T >= thr are written to the strip buffer from `pos` on, rows in order
    (`counts[r]` gets each row's number). Returns the new end."""
    rows, cols = cos.shape
    p = pos
    uj0 = np.uint64(j0)
    for r in range(rows):
        i = i0 + r
        start = max(0, i + 1 - j0)
        si = size[i]
        sm, pr, tr, fl, ps, ng, sg, qq = (
            bits[i, 0], bits[i, 1], bits[i, 2], bits[i, 3], bits[i, 4], bits[i, 5], bits[i, 6], bits[i, 7],
        )  # fmt: skip
        hi = hasf[i]
        crow = cos[r]
        lu1 = lu - 1  # o·lu + u = o·(lu − 1) + |a| + |b|
        q0 = p
        for col in range(start, cols):
            uc = np.uint64(col)
            j = uj0 + uc
            lv = lt[np.uint64(popcount(sm & bits[j, 0]) * lu1 + si + size[j])]
            # i has one kind per key, so the four opposite-kind overlaps are disjoint: one popcount
            opp = (tr & bits[j, 3]) | (fl & bits[j, 2]) | (ps & bits[j, 5]) | (ng & bits[j, 4])
            opp2 = 2 * popcount(opp) + popcount(sg & bits[j, 6]) - popcount(qq & bits[j, 7])
            sv = st[np.uint64(popcount(pr & bits[j, 1]) * sq + opp2)]
            e = (1.0 - min(max(np.float64(crow[uc]), 0.0), 1.0)) * (hi * hasf[j])
            if we * e + wl * lv + ws * sv >= thr_lo:
                p = _decide_write(i, j, lv, sv, we, wl, ws, thr, emb, norm, has, oj, ot, oe, ol, os_, p)
        counts[r] = p - q0
    return p


@njit(cache=True, nogil=True)
def sparse_tile(
    cos, i0, j0, has, mode, data, we, wl, ws, thr_lo, thr, emb, norm, oj, ot, oe, ol, os_, pos, counts
):  # type: ignore[no-untyped-def]
    """`sparse_tile_w1` for any key data (multi-word bitsets or merged sorted rows), L and S by division."""
    size, bits, nws, nwy, nwq, sp, sk, yp, yk, ykind, ycode = data
    rows, cols = cos.shape
    p = pos
    for r in range(rows):
        i = i0 + r
        start = max(0, i + 1 - j0)
        q0 = p
        for col in range(start, cols):
            j = j0 + col
            if mode == BITS:
                lv, sv = _ls_bits(i, j, size, bits, nws, nwy, nwq)
            else:
                lv, sv = _ls_merge(i, j, size, sp, sk, yp, yk, ykind, ycode)
            e = 0.0
            if has[i] and has[j]:
                e = 1.0 - min(max(np.float64(cos[r, col]), 0.0), 1.0)
            if we * e + wl * lv + ws * sv >= thr_lo:
                p = _decide_write(i, j, lv, sv, we, wl, ws, thr, emb, norm, has, oj, ot, oe, ol, os_, p)
        counts[r] = p - q0
    return p


@njit(cache=True, nogil=True)
def copy_strip(i0, counts, bj, bt, be, bl, bs, oi, oj, ot, oe, ol, os_, off):  # type: ignore[no-untyped-def]
    """Copy a strip's pairs to the output from `off` on, in (i, j) order: the buffer holds the strip's
    column tiles one after another (each tile's rows in order), `counts[k, r]` pairs of row r in tile k."""
    ntiles, rows = counts.shape
    cur = np.empty(ntiles, dtype=np.int64)
    acc = 0
    for k in range(ntiles):
        cur[k] = acc
        for r in range(rows):
            acc += counts[k, r]
    p = off
    for r in range(rows):
        i = i0 + r
        for k in range(ntiles):
            s = cur[k]
            c = counts[k, r]
            for x in range(s, s + c):
                oi[p] = i
                oj[p] = bj[x]
                ot[p] = bt[x]
                oe[p] = be[x]
                ol[p] = bl[x]
                os_[p] = bs[x]
                p += 1
            cur[k] = s + c
    return p


@njit(cache=True)
def sample_density(m, seed, emb, norm, has, mode, data, we, wl, ws, thr):  # type: ignore[no-untyped-def]
    """Fraction of `m` pseudo-random pairs i != j (a fixed xorshift sequence) with T >= thr: the engine's
    estimate of how dense the answer is (float64 GEMM or float32 screen; output capacity)."""
    size, bits, nws, nwy, nwq, sp, sk, yp, yk, ykind, ycode = data
    n = size.shape[0]
    x = np.uint64(seed) | np.uint64(1)
    hits = 0
    tries = 0
    for _ in range(m):
        x ^= x << np.uint64(13)
        x ^= x >> np.uint64(7)
        x ^= x << np.uint64(17)
        i = np.int64(x % np.uint64(n))
        j = np.int64((x >> np.uint64(32)) % np.uint64(n))
        if i == j:
            continue
        if mode == BITS:
            lv, sv = _ls_bits(i, j, size, bits, nws, nwy, nwq)
        else:
            lv, sv = _ls_merge(i, j, size, sp, sk, yp, yk, ykind, ycode)
        e = _exact_e(i, j, emb, norm, has)
        hits += we * e + wl * lv + ws * sv >= thr
        tries += 1
    return hits / max(tries, 1)
