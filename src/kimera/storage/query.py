"""DuckDB over the store: one view per table kind (exact values restored), an exploded level view, and
an `instruments` table of each stream's decimals.

Views read the live Parquet files directly (superseded leftovers excluded) and multiply stored prices,
sizes and exchange clocks by their scale column (level prices: after a running sum of their within-row
differences; level sizes: NULL read as 0); values stored as NULL because the previous row of the same file
predicts them are restored with window functions over each file's rows in order, so SQL sees the same
fixed-point integers as the events.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from kimera.storage.codec import (
    CHAINED_COLUMNS,
    NULL_ZERO_COLUMNS,
    REPEAT_COLUMNS,
    ROW_DELTA_COLUMNS,
    scale_of,
)
from kimera.storage.files import open_file
from kimera.storage.layout import live_parts
from kimera.storage.schema import KINDS, SCHEMAS

LEVEL_VIEW = "book_delta_levels"


# Rows of one file in stored order: the previous row of the file is what predicted a NULL.
_FILE_ROWS = "(PARTITION BY filename ORDER BY file_row_number)"


def _select_list(kind: str) -> str:
    """Columns of a kind's view: stored value times its scale for prices, sizes and exchange clocks, predicted
    NULLs restored from the file's previous rows, the rest as stored."""
    exprs = []
    chained = CHAINED_COLUMNS.get(kind, {})
    for f in SCHEMAS[kind]:
        scale = scale_of(kind, f.name)
        if f.name in REPEAT_COLUMNS.get(kind, ()):  # NULL = the previous row's value: last non-NULL so far
            value = f"last_value({f.name} IGNORE NULLS) OVER {_FILE_ROWS}"
            exprs.append(f"({value}) * {scale} AS {f.name}" if scale else f"{value} AS {f.name}")
        elif f.name in chained:  # NULL = the previous row's source column plus step
            src, step = chained[f.name]
            exprs.append(f"coalesce({f.name}, lag({src}) OVER {_FILE_ROWS} + {step}) AS {f.name}")
        elif scale is None:
            exprs.append(f.name)
        elif f.name in ROW_DELTA_COLUMNS.get(kind, {}):  # first level + running sum of the within-row differences
            first = ROW_DELTA_COLUMNS[kind][f.name]
            exprs.append(f"CASE WHEN {first} IS NULL THEN CAST([] AS BIGINT[]) ELSE list_transform("
                         f"generate_series(0, len({f.name})), lambda k: CAST({first} + coalesce(list_sum("
                         f"{f.name}[1:k]), 0) AS BIGINT) * {scale}) END AS {f.name}")
        elif f.name in NULL_ZERO_COLUMNS.get(kind, ()):  # zeros stored as NULL elements
            exprs.append(f"list_transform({f.name}, lambda x: CASE WHEN {scale} < 0 AND x < 0 THEN -x "  # outlier
                         f"ELSE coalesce(x, 0) * abs({scale}) END) AS {f.name}")
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
        con.execute(f"CREATE OR REPLACE VIEW {kind} AS SELECT {_select_list(kind)} "
                    f"FROM read_parquet([{files}], filename = true, file_row_number = true)")
    con.execute(_LEVELS_SQL)
    inst = pa.table({
        "venue": [k[0] for k in decimals], "symbol": [k[1] for k in decimals],
        "price_decimals": [v[0] for v in decimals.values()], "size_decimals": [v[1] for v in decimals.values()],
    }, schema=pa.schema([("venue", pa.string()), ("symbol", pa.string()), ("price_decimals", pa.int32()),
                         ("size_decimals", pa.int32())]))
    con.register("instruments", inst)
    return con
