"""Geoids from JSON lines (one geoid per line) with errors that name the line, and pairs to CSV."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from kimera.cognition.geoid import Geoid, GeoidError

FIELDS = ("geoid_id", "semantic_state", "symbolic_state", "embedding", "metadata")


class GeoidInputError(ValueError):
    """A geoid line that cannot be used; the message names the source and the line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source, self.line, self.reason = source, line, reason


def _geoid(rec: Any) -> Geoid:
    """One decoded JSON record as a Geoid (unknown top-level fields are ignored)."""
    if not isinstance(rec, dict):
        raise GeoidError(f"expected a JSON object, got {type(rec).__name__}")
    gid = rec.get("geoid_id")
    if not isinstance(gid, str) or not gid:
        raise GeoidError(f"geoid_id must be a non-empty string, got {gid!r}")
    emb = rec.get("embedding")
    if emb is not None and (
        not isinstance(emb, list)
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in emb)
    ):
        raise GeoidError(f"geoid {gid!r}: embedding must be a list of numbers or null")
    return Geoid(
        gid,
        rec.get("semantic_state") or {},
        rec.get("symbolic_state") or {},
        None if emb is None else np.asarray(emb, dtype=np.float64),  # float64: overflow of float32 is caught
        rec.get("metadata") or {},
    )


def parse_geoid_lines(lines: Iterable[bytes | str], source: str = "<input>") -> list[Geoid]:
    """Geoids of JSON lines (blank lines skipped); any bad line, mixed embedding dimensions or a repeated
    id raises `GeoidInputError` naming the line."""
    out: list[Geoid] = []
    first_line: dict[str, int] = {}
    dim: tuple[int, int] | None = None  # (dimension, line that set it)
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise GeoidInputError(source, n, f"invalid JSON ({exc})") from exc
        try:
            g = _geoid(rec)
        except GeoidError as exc:
            raise GeoidInputError(source, n, str(exc)) from exc
        if g.geoid_id in first_line:
            raise GeoidInputError(source, n, f"geoid_id {g.geoid_id!r} repeats line {first_line[g.geoid_id]}")
        first_line[g.geoid_id] = n
        if g.dim is not None:
            if dim is None:
                dim = (g.dim, n)
            elif g.dim != dim[0]:
                raise GeoidInputError(
                    source, n, f"embedding dimension {g.dim}, but line {dim[1]} has {dim[0]}"
                )
        out.append(g)
    return out


def read_geoids(path: str | Path) -> list[Geoid]:
    """Geoids of a JSON-lines file (see `parse_geoid_lines`)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ValueError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    return parse_geoid_lines(data.split(b"\n"), str(p))


def geoid_record(g: Geoid) -> dict[str, Any]:
    """A geoid as the JSON-lines record `read_geoids` accepts."""
    return {
        "geoid_id": g.geoid_id,
        "semantic_state": g.semantic_state,
        "symbolic_state": g.symbolic_state,
        "embedding": None if g.embedding is None else g.embedding.tolist(),
        "metadata": g.metadata,
    }


def write_geoids(path: str | Path, geoids: Iterable[Geoid]) -> None:
    """Write geoids as JSON lines."""
    with open(path, "wb") as fh:
        for g in geoids:
            fh.write(orjson.dumps(geoid_record(g), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
