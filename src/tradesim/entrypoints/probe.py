"""Health probes for container health checks: `python -m tradesim.entrypoints.probe http|heartbeat ROLE`.

- `http`: GET /healthz of the api on 127.0.0.1:TRADESIM_HTTP_PORT answers 200.
- `heartbeat ROLE`: the role's heartbeat file under TRADESIM_DATA_DIR is fresh (`heartbeat.py`).

Exit 0 healthy, 1 not (with the reason on stderr). Standard library only, and no settings: the
probe runs in a fresh interpreter every few seconds beside the process it checks.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tradesim.entrypoints.heartbeat import MAX_AGE, age, heartbeat_path

USAGE = "usage: python -m tradesim.entrypoints.probe http | heartbeat ROLE"


def probe_http(environ: dict[str, str] | os._Environ[str]) -> str | None:
    port = environ.get("TRADESIM_HTTP_PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as answer:
            return None if answer.status == 200 else f"/healthz answered {answer.status}"
    except OSError as error:
        return f"/healthz on port {port}: {error}"


def probe_heartbeat(role: str, environ: dict[str, str] | os._Environ[str]) -> str | None:
    path = heartbeat_path(Path(environ.get("TRADESIM_DATA_DIR", "var")), role)
    seconds = age(path)
    if seconds is None:
        return f"no heartbeat at {path}"
    if seconds > MAX_AGE:
        return f"the heartbeat at {path} is {seconds:.0f} s old (more than {MAX_AGE:.0f})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["http"]:
        problem = probe_http(os.environ)
    elif len(args) == 2 and args[0] == "heartbeat":
        problem = probe_heartbeat(args[1], os.environ)
    else:
        print(USAGE, file=sys.stderr)
        return 2
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
