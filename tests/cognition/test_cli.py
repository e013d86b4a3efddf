"""`kimera tensions` through the real CLI app: CSV contract, options, and clear errors with line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from typer.testing import CliRunner

from kimera.cli import app
from kimera.cognition import detect_tensions_reference
from kimera.cognition.io import geoid_record, read_geoids
from kimera.cognition.synth import synthetic_geoids

runner = CliRunner()


def write(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def test_csv_matches_reference(tmp_path: Path) -> None:
    geoids = synthetic_geoids(60, dim=8, seed=2)
    src = write(tmp_path / "g.jsonl", [geoid_record(g) for g in geoids])
    res = runner.invoke(app, ["tensions", "--geoids", str(src), "--threshold", "0.35"])
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["geoid_a", "geoid_b", "tension", "E", "L", "S"]
    ref = detect_tensions_reference(read_geoids(src), 0.35)
    assert [(r[0], r[1]) for r in rows[1:]] == [(t.geoid_a, t.geoid_b) for t in ref]
    for row, t in zip(rows[1:], ref, strict=True):
        assert abs(float(row[2]) - t.tension) < 1e-9 and abs(float(row[3]) - t.E) < 1e-9
        assert float(row[4]) == t.L and float(row[5]) == t.S


def test_out_file_and_weights(tmp_path: Path) -> None:
    recs = [
        {"geoid_id": "a", "semantic_state": {"x": 1}, "symbolic_state": {"dir": 1}, "embedding": [1, 0]},
        {"geoid_id": "b", "semantic_state": {"x": 2}, "symbolic_state": {"dir": -1}, "embedding": None},
        {"geoid_id": "c", "embedding": [0, 0]},
    ]
    src = write(tmp_path / "g.jsonl", recs)
    out = tmp_path / "pairs.csv"
    res = runner.invoke(
        app, ["tensions", "--geoids", str(src), "--threshold", "0.5", "--weights", "0,0,1", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(out.open()))
    assert rows == [["geoid_a", "geoid_b", "tension", "E", "L", "S"], ["a", "b", "1.0", "0.0", "0.0", "1.0"]]


def test_bad_input_names_the_line(tmp_path: Path) -> None:
    good = '{"geoid_id": "a", "embedding": [1, 2]}\n'
    cases = {
        "invalid JSON": good + "{oops\n",
        "NaN": good + '{"geoid_id": "b", "embedding": [1, NaN]}\n',
        "dimension": good + '{"geoid_id": "b", "embedding": [1, 2, 3]}\n',
        "negative": good + '{"geoid_id": "b", "semantic_state": {"w": -1}}\n',
        "repeats line 1": good + '{"geoid_id": "a"}\n',
        "geoid_id": good + '{"embedding": [1, 2]}\n',
        "bool, number or string": good + '{"geoid_id": "b", "symbolic_state": {"k": [1]}}\n',
    }
    for needle, text in cases.items():
        src = tmp_path / "bad.jsonl"
        src.write_text(text)
        res = runner.invoke(app, ["tensions", "--geoids", str(src)])
        assert res.exit_code != 0, needle
        assert f"{src}:2:" in res.stderr, (needle, res.stderr)
        if needle != "NaN":  # orjson rejects the NaN token itself
            assert needle in res.stderr, (needle, res.stderr)
    src.write_text(good)
    for args in (["--threshold", "1.5"], ["--weights", "1,1,1"]):
        res = runner.invoke(app, ["tensions", "--geoids", str(src), *args])
        assert res.exit_code != 0 and "error:" in res.stderr
    res = runner.invoke(app, ["tensions", "--geoids", str(tmp_path / "missing.jsonl")])
    assert res.exit_code != 0 and "cannot read" in res.stderr
