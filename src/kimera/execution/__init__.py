"""Order management and simulated execution: orders and their state machine, the order manager, latency
and queue models, and the simulated venue that matches against the replayed L2 book."""

from kimera.execution.latency import ConstantLatency, FeedLatency, LatencyModel
from kimera.execution.manager import OrderManager
from kimera.execution.orders import (
    TRANSITIONS,
    ClientIdGenerator,
    Fill,
    IllegalTransition,
    Order,
    OrderError,
    OrderEvent,
    OrderKind,
    OrderStatus,
)
from kimera.execution.queue import ProbQueue, QueueModel, RiskAverseQueue
from kimera.execution.venue import FeeSchedule, SimulatedVenue

__all__ = [
    "TRANSITIONS",
    "ClientIdGenerator",
    "ConstantLatency",
    "FeeSchedule",
    "FeedLatency",
    "Fill",
    "IllegalTransition",
    "LatencyModel",
    "Order",
    "OrderError",
    "OrderEvent",
    "OrderKind",
    "OrderManager",
    "OrderStatus",
    "ProbQueue",
    "QueueModel",
    "RiskAverseQueue",
    "SimulatedVenue",
]
