"""Paper trading: the emulator's websocket stream -> stream client -> the same pipeline, simulated fills."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kimera.emulator.server import Emulator
from kimera.emulator.source import Source
from kimera.journal import rebuild
from kimera.runners.paper import PaperConfig, paper_session


def test_paper_session_trades_the_emulated_stream(tmp_path: Path) -> None:
    async def main() -> tuple[object, int]:
        async with Emulator("binance", Source.simulated(), rate=1500) as emu:
            cfg = PaperConfig(ws_url=emu.ws_url, rest_url=emu.http_url, seconds=5.0, strategy="obi",
                              quantity="0.01", max_position="0.03", journal=tmp_path / "paper.db")
            out = await paper_session(cfg)
            return out, emu.events_served

    out, served = asyncio.run(main())
    assert served > 1000
    assert out.book_updates > 1000  # type: ignore[attr-defined]
    pipe = out.pipeline  # type: ignore[attr-defined]
    assert len(pipe.om.orders) > 0 and pipe.om.fills > 0
    st = rebuild(tmp_path / "paper.db")
    assert st.positions == {k: p.qty for k, p in pipe.portfolio.positions.items()}
    assert pipe.portfolio.equity() - pipe.portfolio.initial_cash == \
        __import__("pytest").approx(pipe.portfolio.realised + pipe.portfolio.unrealised() - pipe.portfolio.fees)
