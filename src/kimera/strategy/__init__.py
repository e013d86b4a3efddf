"""Strategies: one interface returning order intents, member signals, and a contradiction-aware ensemble."""

from kimera.strategy.base import NO_INTENTS, SignalStrategy, Strategy, Timer
from kimera.strategy.ensemble import Ensemble, EnsembleDecision, member_draft
from kimera.strategy.intent import IntentError, OrderIntent, OrderType, Signal, TimeInForce
from kimera.strategy.runner import StrategyRunner
from kimera.strategy.signals import FlowMomentum, ImbalanceMomentum, MeanReversion
from kimera.strategy.tension import GeoidDraft, PairTension, all_pair_tensions

__all__ = [
    "NO_INTENTS",
    "Ensemble",
    "EnsembleDecision",
    "FlowMomentum",
    "GeoidDraft",
    "ImbalanceMomentum",
    "IntentError",
    "MeanReversion",
    "OrderIntent",
    "OrderType",
    "PairTension",
    "Signal",
    "SignalStrategy",
    "Strategy",
    "StrategyRunner",
    "TimeInForce",
    "Timer",
    "all_pair_tensions",
    "member_draft",
]
