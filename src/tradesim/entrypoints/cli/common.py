"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def not_built(name: str) -> Handler:
    """The handler of a command whose implementation has not landed: says so, exits non-zero."""

    def run(_: argparse.Namespace) -> int:
        print(f"tradesim {name}: not built yet (see the open issues); nothing was done.", file=sys.stderr)
        return 2

    return run
