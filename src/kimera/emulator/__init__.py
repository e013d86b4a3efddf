"""A local exchange: real websocket + HTTP servers speaking venue protocols, with fault injection."""

from kimera.emulator.faults import Fault, FaultKind, FaultPlan, Injected
from kimera.emulator.server import Emulator, SourceError
from kimera.emulator.source import Source

__all__ = ["Emulator", "Fault", "FaultKind", "FaultPlan", "Injected", "Source", "SourceError"]
