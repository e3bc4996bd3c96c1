"""Platform simulator: a believable social + marketplace + collaboration + payments platform.

``simulate`` writes the platform's domain events as NDJSON landing files in the wire format of
``core_api.events`` (folders by arrival date, with late, duplicate and optionally corrupted
deliveries) and a ground truth that the pipeline must never use as a feature.
"""

from simulator.config import SimConfig, SimSummary
from simulator.engine import simulate

__all__ = ["SimConfig", "SimSummary", "simulate"]
