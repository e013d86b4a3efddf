"""Runners: the same strategy objects in a backtest, on paper and live."""
