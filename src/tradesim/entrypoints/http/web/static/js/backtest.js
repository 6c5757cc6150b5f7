// One backtest on screen: its progress live (the socket's `strategy-run.{runId}` topic, and a poll
// while the socket is down or quiet), then its metrics, its round trips as markers on the price and
// its equity curve.

import { api, ApiError } from "./api.js";
import { isLong, lineChart, tradesChart } from "./chart.js";
import { $, fill, h, say, utc } from "./dom.js";
import { refusal } from "./words.js";

const POLL_MS = 2_000;
/** A socket that said nothing for this long is not trusted to be telling: the run is read. */
const QUIET_MS = 3_000;
const DONE = new Set(["finished", "failed", "cancelled"]);
/** Intervals `/api/v1/candles` serves, in seconds, and the most bars it answers at once. */
const CANDLE_INTERVALS = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600 };
const MAX_CANDLES = 1000;

let socket = null;
let run = null;
let lastHeard = 0;
let timer = 0;
let changed = () => {};
let drawTrades = null;
let drawEquity = null;

export function setupBacktest(theSocket) {
  socket = theSocket;
  $("run-cancel").addEventListener("click", async () => {
    if (!run) return;
    try {
      await api("DELETE", `/api/v1/strategy-runs/${run.runId}`);
      await poll();
    } catch (error) {
      say("run-error", error instanceof ApiError ? refusal(error.code, error.message) : String(error));
    }
  });
}

/** Follow `started` (a run just queued, or a running one from the list) until it ends. */
export function watchRun(started, onChange = () => {}) {
  changed = onChange;
  run = started;
  lastHeard = performance.now();
  socket.want([`strategy-run.${started.runId}`], "backtest");
  clearInterval(timer);
  timer = setInterval(() => {
    if (!socket.live || performance.now() - lastHeard > QUIET_MS) poll();
  }, POLL_MS);
  draw();
  poll();
}

async function poll() {
  if (!run) return;
  const id = run.runId;
  try {
    const now = await api("GET", `/api/v1/strategy-runs/${id}`);
    if (run && run.runId === id) update(now);
  } catch (error) {
    say("run-error", error instanceof ApiError ? refusal(error.code, error.message) : String(error));
  }
}

/** A push on `strategy-run.{runId}`: progress, or the final result. */
export function onRunPush(runId, data) {
  if (!run || run.runId !== runId) return;
  lastHeard = performance.now();
  const rows = Array.isArray(data) ? data : [data];
  for (const row of rows) if (row) update(row);
}

function update(next) {
  const was = run.status;
  run = { ...run, ...next };
  if (was !== run.status) changed();
  if (DONE.has(run.status)) {
    clearInterval(timer);
    socket.want([], "backtest");
    // A final push may carry the status alone: the result is read once, whole.
    if (run.status === "finished" && !run.metrics) return void poll();
  }
  draw();
}

function draw() {
  const r = run;
  const pct = Math.floor(Number(r.progress || 0) * 100);
  $("run-title").textContent = r.strategy ? `Backtest of ${r.strategy}` : "Backtest";
  $("run-summary").textContent = r.symbol
    ? `${r.symbol} ${r.timeframe}, ${utc(r.start)} to ${utc(r.end)}`
    : "Reading the backtest";
  $("run-progress-row").hidden = false;
  $("run-progress").value = Number(r.progress || 0);
  $("run-progress").setAttribute("aria-valuetext", `${pct} %`);
  $("run-status").textContent = `${r.status} ${pct} %`;
  $("run-cancel").hidden = DONE.has(r.status);
  $("run-error").textContent = r.status === "failed" ? `The backtest failed: ${r.error || "no reason given"}` : "";
  const results = r.status === "finished" && r.metrics;
  $("run-results").hidden = !results;
  if (results) drawResults(r);
}

const FIRST = ["total", "win_rate", "net_profit", "net_profit_percentage", "max_drawdown", "sharpe_ratio", "fee",
  "starting_balance", "finishing_balance"];

async function drawResults(r) {
  const names = [...FIRST.filter((n) => n in r.metrics), ...Object.keys(r.metrics).filter((n) => !FIRST.includes(n)).sort()];
  $("run-metrics").replaceChildren(...names.map((n) => h("div", {}, h("dt", {}, n), h("dd", {}, String(r.metrics[n] ?? "-")))));
  const trades = r.trades || [];
  fill($("run-trades"), trades.map((t) => h("tr", {},
    h("td", { class: isLong(t.side) ? "Buy" : "Sell" }, t.side), h("td", {}, t.qty), h("td", {}, t.entryPrice),
    h("td", {}, t.exitPrice || "-"), h("td", {}, utc(t.openedTime)), h("td", {}, utc(t.closedTime)), h("td", {}, t.pnl),
    h("td", {}, t.fee))), 8, "No trade");
  $("run-markers").replaceChildren(...trades.flatMap((t) => [
    h("li", {}, `${isLong(t.side) ? "Long" : "Short"} ${t.qty} in at ${t.entryPrice}, ${utc(t.openedTime)}`),
    h("li", {}, `Out at ${t.exitPrice || "-"}, ${utc(t.closedTime)}, PnL ${t.pnl}`),
  ]));
  if (!drawEquity) drawEquity = lineChart($("run-equity"));
  drawEquity((r.equityCurve || []).map(([ts, equity]) => ({ ts, equity })));
  if (!drawTrades) drawTrades = tradesChart($("run-chart"));
  const interval = CANDLE_INTERVALS[r.timeframe] ? r.timeframe : "1m";
  const bars = await candles(r, interval);
  if (!run || run.runId !== r.runId) return;
  drawTrades(bars, trades, CANDLE_INTERVALS[interval]);
  $("run-chart").setAttribute("aria-label", `Backtest trades chart: ${trades.length} round trips on ${
    bars.length ? `${bars.length} ${interval} bars` : "the trades' own prices (no stored bars are served for this range)"}`);
}

/** The run's bars, when the api's candle route has them (it serves the bars the streamer stored). */
async function candles(r, interval) {
  const size = CANDLE_INTERVALS[interval] * 1000;
  if ((r.end - r.start) / size > MAX_CANDLES) return [];
  try {
    const { list } = await api("GET", `/api/v1/candles?symbol=${r.symbol}&interval=${interval}&start=${r.start}&end=${r.end}`);
    return list;
  } catch {
    return [];
  }
}
