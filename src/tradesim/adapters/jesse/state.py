"""Jesse's process-global state, held per context and swapped in before a context runs.

Jesse keeps one `store`, one `config`, a cache of config lookups (`helpers.CACHED_CONFIG`) and one
`router` per process. A context owns its own copy of each; `activate` makes it the live one. The
swap is a handful of attribute assignments, so thousands of contexts can share one interpreter.
That is a convenience, not a sandbox: strategy code could still reach another context's objects.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs
import jesse.helpers as jh
from jesse.config import backup_config, config
from jesse.routes import router
from jesse.store import store


@attrs.define(slots=True, eq=False)
class JesseState:
    store_dict: dict[str, Any]
    env: dict[str, Any]
    app: dict[str, Any]
    cached_config: dict[str, Any]
    routes: list[Any]
    data_routes: list[Any]
    #: Whoever runs on this state (the strategy context): where Jesse's order calls go while it is live.
    owner: Any = None


_active: list[JesseState | None] = [None]


def fresh() -> JesseState:
    """Jesse's state as after `reset_config` and `store.reset`, in backtest mode, made live."""
    app = copy.deepcopy(backup_config["app"])
    app["trading_mode"] = "backtest"
    state = JesseState(
        store_dict={}, env=copy.deepcopy(backup_config["env"]), app=app, cached_config={}, routes=[], data_routes=[]
    )
    activate(state)
    store.reset()
    return state


def activate(state: JesseState) -> None:
    """Make `state` Jesse's live state (saving the routes of the one that was live)."""
    current = _active[0]
    if current is state:
        return
    if current is not None:
        # The router's lists are replaced (not mutated) by `router.initiate`: keep what it holds.
        current.routes = router.routes
        current.data_routes = router.data_routes
    store.__dict__ = state.store_dict
    config["env"] = state.env
    config["app"] = state.app
    jh.CACHED_CONFIG = state.cached_config
    router.routes = state.routes
    router.data_routes = state.data_routes
    _active[0] = state


def owner() -> Any:
    """The owner of the live state; raises when Jesse acts with no context live (a bug, not a strategy's fault)."""
    current = _active[0]
    if current is None or current.owner is None:
        raise RuntimeError("Jesse placed an order while no strategy context was live")
    return current.owner


def is_active(state: JesseState) -> bool:
    return _active[0] is state


def deactivate() -> None:
    """Forget which state is live (after a context is dropped, so its objects can be freed)."""
    current = _active[0]
    if current is not None:
        current.routes = router.routes
        current.data_routes = router.data_routes
    _active[0] = None


def release() -> None:
    """Leave Jesse's globals to code that manages them itself (`jesse.research.backtest`, a comparison).

    No context's state stays live, so nothing that code resets or fills belongs to a context.
    """
    deactivate()
    store.__dict__ = {}
    config["env"] = copy.deepcopy(backup_config["env"])
    config["app"] = copy.deepcopy(backup_config["app"])
    jh.CACHED_CONFIG = {}
    router.routes = []
    router.data_routes = []
