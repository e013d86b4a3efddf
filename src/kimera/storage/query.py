"""DuckDB over the store: one view per table kind (exact values restored), an exploded level view, and
an `instruments` table of each stream's decimals.

Views read the live Parquet files directly (superseded leftovers excluded) and multiply stored prices and
sizes by their `px_scale` / `sz_scale` (level prices: after a running sum of their within-row
differences; level sizes: NULL read as 0) and exchange clocks by `ts_scale`, so SQL sees the same
fixed-point integers as the events.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from kimera.storage.codec import NULL_ZERO_COLUMNS, ROW_DELTA_COLUMNS, TIME_COLUMNS
from kimera.storage.files import open_file
from kimera.storage.layout import live_parts
from kimera.storage.schema import KINDS, PRICE_COLUMNS, SCHEMAS, SIZE_COLUMNS

LEVEL_VIEW = "book_delta_levels"


def _select_list(kind: str) -> str:
    """Columns of a kind's view: stored value times its scale for prices, sizes and exchange clocks, the rest
    as stored."""
    exprs = []
    for f in SCHEMAS[kind]:
        scale = ("px_scale" if f.name in PRICE_COLUMNS[kind] else "sz_scale" if f.name in SIZE_COLUMNS[kind]
                 else "ts_scale" if f.name in TIME_COLUMNS[kind] else None)
        if scale is None:
            exprs.append(f.name)
        elif f.name in ROW_DELTA_COLUMNS.get(kind, ()):  # stored as within-row differences: running sum
            exprs.append(f"list_transform({f.name}, lambda x, i: CAST(list_sum({f.name}[1:i]) AS BIGINT) * {scale})"
                         f" AS {f.name}")
        elif f.name in NULL_ZERO_COLUMNS.get(kind, ()):  # zeros stored as NULL elements
            exprs.append(f"list_transform({f.name}, lambda x: coalesce(x, 0) * {scale}) AS {f.name}")
        elif pa.types.is_list(f.type):
            exprs.append(f"list_transform({f.name}, lambda x: x * {scale}) AS {f.name}")
        else:
            exprs.append(f"{f.name} * {scale} AS {f.name}")
    return ", ".join(exprs)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_LEVELS_SQL = f"""
CREATE OR REPLACE VIEW {LEVEL_VIEW} AS
SELECT venue, symbol, seq, recv_ns, exchange_ns, first_update_id, last_update_id, 'bid' AS side,
       unnest(generate_series(1, len(bid_px))) AS level, unnest(bid_px) AS price, unnest(bid_sz) AS size
FROM book_delta
UNION ALL
SELECT venue, symbol, seq, recv_ns, exchange_ns, first_update_id, last_update_id, 'ask' AS side,
       unnest(generate_series(1, len(ask_px))) AS level, unnest(ask_px) AS price, unnest(ask_sz) AS size
FROM book_delta
"""


def connect(root: str | Path, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the store's views: book_snapshot, book_delta, quote, trade, bar,
    book_delta_levels (one row per level) and instruments (venue, symbol, price/size decimals)."""
    root = Path(root)
    con = con or duckdb.connect()
    decimals: dict[tuple[str, str], tuple[int, int]] = {}
    for kind in KINDS:
        parts = live_parts(root, kind)
        if not parts:
            con.register(kind, SCHEMAS[kind].empty_table())
            continue
        for p in parts:
            if (p.venue, p.symbol) not in decimals:
                _, meta = open_file(p.path, kind)
                decimals[(p.venue, p.symbol)] = (meta.price_decimals, meta.size_decimals)
        files = ", ".join(_sql_str(str(p.path)) for p in parts)
        con.execute(f"CREATE OR REPLACE VIEW {kind} AS SELECT {_select_list(kind)} FROM read_parquet([{files}])")
    con.execute(_LEVELS_SQL)
    inst = pa.table({
        "venue": [k[0] for k in decimals], "symbol": [k[1] for k in decimals],
        "price_decimals": [v[0] for v in decimals.values()], "size_decimals": [v[1] for v in decimals.values()],
    }, schema=pa.schema([("venue", pa.string()), ("symbol", pa.string()), ("price_decimals", pa.int32()),
                         ("size_decimals", pa.int32())]))
    con.register("instruments", inst)
    return con
