"""The embedded default market: a Poisson order-flow simulator calibrated on the real BTCUSDT capture."""
