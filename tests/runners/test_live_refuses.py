"""Live mode refuses to start without the flag and the keys, and never prints the keys."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kimera.cli import app
from kimera.runners.live import LiveConfig, LiveRefused


def test_refuses_without_flag_even_with_keys() -> None:
    r = CliRunner().invoke(app, ["live"], env={"KIMERA_API_KEY": "k-visible", "KIMERA_API_SECRET": "s3cr3t-value"})
    assert r.exit_code == 3
    assert "i-understand-this-trades-real-money" in r.output
    assert "s3cr3t-value" not in r.output and "k-visible" not in r.output


@pytest.mark.parametrize("env", [{}, {"KIMERA_API_KEY": "k"}, {"KIMERA_API_SECRET": "s"}])
def test_refuses_without_keys(env: dict[str, str]) -> None:
    full = {"KIMERA_API_KEY": "", "KIMERA_API_SECRET": "", **env}
    r = CliRunner().invoke(app, ["live", "--i-understand-this-trades-real-money"], env=full)
    assert r.exit_code == 3
    assert "KIMERA_API_KEY" in r.output
    with pytest.raises(LiveRefused):
        LiveConfig.from_env(True, "binance", "BTC/USDT", None, env)


def test_config_repr_masks_keys() -> None:
    cfg = LiveConfig.from_env(True, "binance", "BTC/USDT", None, {"KIMERA_API_KEY": "AKEY", "KIMERA_API_SECRET": "ASECRET"})
    assert "AKEY" not in repr(cfg) and "ASECRET" not in repr(cfg)
