"""The strategies users may choose, as the workers loaded them, and the one check of a choice.

The api never imports Jesse, so it cannot load a strategy to see what it declares. Each worker
that runs strategies publishes the catalogue it loaded (`StrategyCatalogueBoard`); backtest runs
and live deployments are both checked against that one publication, with the same rules
(`domain.strategy_specs`): a strategy the workers could not load is refused by name, whatever
route asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradesim.domain.errors import InvalidInput, NotFound, RuleViolation
from tradesim.domain.strategy_specs import StrategySpec, check_timeframe, find_spec
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.strategy_runs import StrategyCatalogueBoard


class UnknownStrategy(RuleViolation):
    code = "UNKNOWN_STRATEGY"


class NoStrategyWorker(DependencyUnavailable):
    """No worker has published its catalogue yet: nobody could run the strategy."""

    code = "NO_STRATEGY_WORKER"


class PublishedStrategies:
    def __init__(self, board: StrategyCatalogueBoard) -> None:
        self._board = board

    async def all(self) -> list[StrategySpec]:
        """What the workers can run; raises `NoStrategyWorker` before any has published its catalogue."""
        specs = await self._board.read()
        if specs is None:
            raise NoStrategyWorker("no strategy worker is running yet; start `tradesim worker` with the jesse extra")
        return specs

    async def choose(
        self, strategy: str, timeframe: str, hyperparameters: Mapping[str, Any] | None
    ) -> tuple[StrategySpec, dict[str, Any]]:
        """The strategy's spec and the hyperparameters typed by it.

        Raises `NoStrategyWorker`, `UnknownStrategy`, `BrokenStrategy`, `UnknownTimeframe`,
        `InvalidInput` (a timeframe the strategy does not run on, hyperparameters not an object)
        or `BadHyperparameter`.
        """
        specs = {s.name: s for s in await self.all()}
        try:
            spec = find_spec(specs, strategy)
        except NotFound as error:
            raise UnknownStrategy(error.message) from None
        check_timeframe(timeframe)
        if timeframe not in spec.timeframes:
            raise InvalidInput(
                f"strategy {strategy} does not run on {timeframe}; it runs on {', '.join(spec.timeframes)}"
            )
        if hyperparameters is not None and not isinstance(hyperparameters, Mapping):
            raise InvalidInput("hyperparameters must be an object of name: value")
        return spec, spec.typed(hyperparameters or {})
