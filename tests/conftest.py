"""Shared fixtures: the real market data lives in ../shared/data (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__import__("os").environ.get("KIMERA_DATA", REPO.parent / "shared" / "data"))


def data_path(*parts: str) -> Path:
    """Path into the shared data; skips the test (with the reason) when the data is absent."""
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not found: {p}")
    return p


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The root of ../shared/data."""
    if not DATA.exists():
        pytest.skip(f"shared data not found: {DATA}")
    return DATA
