"""The matching engine and its configuration."""

from tradesim.domain.engine.config import EngineConfig, FixedTickSlippage, NoSlippage, SequentialIds, SlippageModel
from tradesim.domain.engine.core import MatchingEngine

__all__ = ["EngineConfig", "FixedTickSlippage", "MatchingEngine", "NoSlippage", "SequentialIds", "SlippageModel"]
