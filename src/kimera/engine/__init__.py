"""The deterministic event loop: a clock, a message bus, sources merged by timestamp, and book upkeep."""

from kimera.engine.books import BookManager, BookUpdate
from kimera.engine.bus import Clock, MessageBus
from kimera.engine.replay import ReplayEngine, ReplaySummary, replay

__all__ = ["BookManager", "BookUpdate", "Clock", "MessageBus", "ReplayEngine", "ReplaySummary", "replay"]
