"""The web client measured in Debian's headless Chromium against `tradesim serve` on loopback.

Prints, each beside a baseline measured in the same run:

- time to first chart: navigation start to the first bars drawn (the chart's accessible name gains
  "last close"), a fresh browser context each run (nothing cached); baseline: the same browser
  loading a small static file of the api (its floor for one round trip and a paint);
- bytes of a first load: every response up to the first chart, as transferred (gzip where the
  browser asked for it) and decoded; target under 400 KB transferred, the chart library included;
- frames behind while a replay plays at each `--speeds` (bars per second): how many frames a bar
  waited between arriving on the socket and being drawn beyond the one frame coalescing costs, the
  bars waiting at each frame's start (second by second: growing would be a backlog), the frames'
  rate and long frames (over 50 ms), and the time the page's main thread spent in tasks and in script
  (Chromium's TaskDuration and ScriptDuration: wall time inside tasks, so a loaded machine inflates it
  too, though less than the frame rate); baseline: the same page with the replay paused.

Smallest configuration (about a minute on a loaded 2-CPU machine):

    uv run python bench/web_client.py --runs 1 --seconds 2 --speeds 100 1000

Needs /usr/bin/chromium (apt-get install -y chromium) or TRADESIM_CHROMIUM; never downloads a browser.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from playwright.sync_api import Browser, Page, sync_playwright
from tests.support.web_stack import HISTORY_DAY, running_stack

CHROMIUM = os.environ.get("TRADESIM_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "a long password"
# Functions, not expressions: a bare expression is evaluated with eval, which the page's policy forbids.
CHART_DRAWN = "() => document.getElementById('chart')?.getAttribute('aria-label')?.includes('last close')"
#: Every frame the browser shows: its interval, and the bars received but not yet drawn at its start.
FRAME_PROBE = """() => {
  const probe = { intervals: [], backlog: [], last: performance.now(), running: true };
  const tick = (now) => {
    probe.intervals.push(now - probe.last);
    probe.backlog.push(window.tradesimReplay.received - window.tradesimReplay.applied);
    probe.last = now;
    if (probe.running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.frameProbe = probe;
}"""


def user(base_url: str, email: str) -> dict[str, str]:
    """A user with one live account and its tokens, made over the api."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        credentials = {"email": email, "password": PASSWORD}
        client.post("/api/v1/auth/register", json=credentials).raise_for_status()
        tokens = client.post("/api/v1/auth/login", json=credentials).json()
        client.headers["Authorization"] = f"Bearer {tokens['accessToken']}"
        account = client.post("/api/v1/accounts", json={"name": "Main"}).json()
        return {"refresh": tokens["refreshToken"], "access": tokens["accessToken"], "account": account["accountId"]}


def signed_in_page(browser: Browser, base_url: str, who: dict[str, str], account: str) -> tuple[Any, Page]:
    """A fresh context (empty cache) whose storage holds the user's session, as after a login."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 860})
    context.add_init_script(
        f"localStorage.setItem('tradesim.refreshToken', {who['refresh']!r});"
        f"localStorage.setItem('tradesim.accountId', {account!r});"
    )
    return context, context.new_page()


def first_chart(browser: Browser, base_url: str, email: str) -> dict[str, float]:
    who = user(base_url, email)
    context, page = signed_in_page(browser, base_url, who, who["account"])
    sizes: list[tuple[int, int]] = []
    page.on("requestfinished", lambda request: sizes.append(_sizes(request)))
    page.goto("/")
    page.wait_for_function(CHART_DRAWN, timeout=60_000)
    elapsed = page.evaluate("performance.now()")
    page.wait_for_timeout(300)  # let the responses that finished with the chart be counted
    transferred = sum(s[0] for s in sizes)
    decoded = sum(s[1] for s in sizes)
    # Refresh tokens rotate: the next run signs up again rather than reuse a spent one.
    context.close()
    return {"ms": elapsed, "transferred": transferred, "decoded": decoded, "requests": len(sizes)}


def _sizes(request: Any) -> tuple[int, int]:
    sizes = request.sizes()
    response = request.response()
    decoded = len(response.body()) if response is not None and response.status != 304 else 0
    return sizes["responseBodySize"] + sizes["responseHeadersSize"], decoded + sizes["responseHeadersSize"]


def static_floor(browser: Browser, base_url: str) -> float:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/web/vendor/lightweight-charts/NOTICE")
    elapsed = page.evaluate("performance.now()")
    context.close()
    return float(elapsed)


def replay_frames(browser: Browser, base_url: str, email: str, speed: str, seconds: float) -> dict[str, float]:
    who = user(base_url, email)
    start = int(datetime(HISTORY_DAY.year, HISTORY_DAY.month, HISTORY_DAY.day, tzinfo=UTC).timestamp() * 1000)
    with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {who['access']}"}) as api:
        session = api.post("/api/v1/replays", json={"symbol": "BTCUSDT", "start": start, "speed": speed}).json()
        context, page = signed_in_page(browser, base_url, who, session["accountId"])
        page.goto("/")
        page.get_by_role("toolbar", name="Replay controls").wait_for()
        page.wait_for_function("() => document.getElementById('connection').textContent === 'live'")
        page.wait_for_timeout(500)  # the replay topic's subscription goes out right after the socket is live
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        idle = _probe(page, cdp, seconds)
        control = f"/api/v1/replays/{session['replayId']}/control"
        api.post(control, json={"action": "play"}).raise_for_status()
        playing = _probe(page, cdp, seconds)
        api.post(control, json={"action": "pause"}).raise_for_status()
        page.wait_for_timeout(1000)
        left = page.evaluate("window.tradesimReplay.received - window.tradesimReplay.applied")
    context.close()
    return {"speed": float(speed), **{f"idle_{k}": v for k, v in idle.items()}, **playing, "left_after_pause": left}


def _busy(cdp: Any) -> dict[str, float]:
    """Seconds the page's main thread spent inside tasks and inside script (Chromium's counters)."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"task": metrics["TaskDuration"], "script": metrics["ScriptDuration"]}


def _probe(page: Page, cdp: Any, seconds: float) -> dict[str, float]:
    before = page.evaluate("({...window.tradesimReplay})")
    busy_before = _busy(cdp)
    page.evaluate(FRAME_PROBE)
    page.wait_for_timeout(seconds * 1000)
    busy_after = _busy(cdp)
    result = page.evaluate(
        "(() => { window.frameProbe.running = false; return {intervals: window.frameProbe.intervals,"
        " backlog: window.frameProbe.backlog, replay: {...window.tradesimReplay}}; })()"
    )
    intervals = result["intervals"][1:] or [0.0]
    backlog = result["backlog"] or [0]
    after = result["replay"]
    received = after["received"] - before["received"]
    drawn = after["applied"] - before["applied"]
    frame = statistics.median(intervals) or 1000 / 60
    # The most bars waiting at a frame's start, second by second: growing means accumulating.
    by_second: list[int] = []
    elapsed = 0.0
    for interval, waiting in zip(intervals, backlog[1:], strict=False):
        elapsed += interval
        second = int(elapsed // 1000)
        while len(by_second) <= second:
            by_second.append(0)
        by_second[second] = max(by_second[second], waiting)
    task = busy_after["task"] - busy_before["task"]
    script = busy_after["script"] - busy_before["script"]
    return {
        "bars_received": received,
        "bars_drawn": drawn,
        "bars_per_s": received / seconds,
        "mean_wait_ms": (after["waitedMs"] - before["waitedMs"]) / drawn if drawn else 0.0,
        "max_wait_ms": after["maxWaitMs"],
        # A bar that arrived just after a frame began is drawn in the next: one frame is the cost of
        # coalescing; anything beyond it is "behind".
        "max_frames_behind": max(0, math.ceil(after["maxWaitMs"] / frame) - 1),
        "backlog_by_second": by_second,
        "busy": task / seconds,
        "script_ms_per_1000_bars": script * 1000 / received * 1000 if received else 0.0,
        "task_ms_per_1000_bars": task * 1000 / received * 1000 if received else 0.0,
        "fps": len(intervals) / seconds,
        "long_frames": sum(1 for i in intervals if i > 50),
        "worst_frame_ms": max(intervals),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="first loads to time (median printed)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of replay (and of idle) per speed")
    parser.add_argument("--speeds", nargs="+", default=["100", "1000"], help="replay speeds in bars per second")
    parser.add_argument("--smallest", action="store_true", help="the test suite's run: one load, 1 s at 100 bars/s")
    args = parser.parse_args()
    if args.smallest:
        args.runs, args.seconds, args.speeds = 1, 1.0, ["100"]
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install -y chromium, or set TRADESIM_CHROMIUM")
    # Enough stored bars for the fastest speed to play the whole measurement.
    days = max(1, int(max(float(s) for s in args.speeds) * args.seconds * 1.5) // 1440 + 1)
    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack(Path(folder), days=days) as (serve, _feed),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        loads = [first_chart(browser, serve.base_url, f"load{i}@example.com") for i in range(args.runs)]
        floors = [static_floor(browser, serve.base_url) for _ in range(args.runs)]
        print(f"first chart over loopback, {args.runs} fresh contexts (median):")
        print(f"  time to first chart       {statistics.median(x['ms'] for x in loads):8.0f} ms")
        print(f"  baseline: a static file   {statistics.median(floors):8.0f} ms")
        first = loads[0]
        print(f"  bytes transferred         {first['transferred'] / 1024:8.1f} KB  (target < 400 KB)")
        print(f"  baseline: decoded bytes   {first['decoded'] / 1024:8.1f} KB  in {first['requests']:.0f} requests")
        for speed in args.speeds:
            r = replay_frames(browser, serve.base_url, f"replay{speed}@example.com", speed, args.seconds)
            print(f"replay at {speed} bars/s for {args.seconds:g} s (idle baseline: paused, same page):")
            print(
                f"  bars received {r['bars_received']:.0f} ({r['bars_per_s']:.0f}/s), drawn {r['bars_drawn']:.0f};"
                f" wait to draw mean {r['mean_wait_ms']:.1f} ms, max {r['max_wait_ms']:.0f} ms;"
                f" max frames behind {r['max_frames_behind']:.0f}"
            )
            print(
                f"  bars waiting at a frame's start, most per second: {r['backlog_by_second']}"
                f" (accumulating if it keeps growing); left 1 s after pause: {r['left_after_pause']:.0f}"
            )
            print(
                f"  page main thread busy {r['busy']:.0%} of the time (idle {r['idle_busy']:.0%}); per 1000"
                f" bars: tasks {r['task_ms_per_1000_bars']:.0f} ms, script {r['script_ms_per_1000_bars']:.0f} ms"
            )
            print(
                f"  frames/s {r['fps']:.1f} (idle {r['idle_fps']:.1f}); frames over 50 ms {r['long_frames']:.0f}"
                f" (idle {r['idle_long_frames']:.0f}); worst frame {r['worst_frame_ms']:.0f} ms"
                f" (idle {r['idle_worst_frame_ms']:.0f} ms)"
            )
        browser.close()


if __name__ == "__main__":
    main()
