// Bar Replay: start a session on a past date, play / pause / step / change speed / jump, trade in it.
// The chart shows only bars up to the replay's clock: nothing after it is ever fetched.

import { api, ApiError } from "./api.js";
import { $, say, utc } from "./dom.js";
import { inFrame } from "./frames.js";
import { state } from "./state.js";
import { refusal } from "./words.js";

const MINUTE = 60_000;
const HISTORY_BARS = 600;

/** Counters a benchmark reads (window.tradesimReplay): bars in, bars drawn, and how long bars waited
 * between arriving and being drawn (milliseconds: the benchmark turns them into frames). */
export const stats = { received: 0, applied: 0, waitedMs: 0, maxWaitMs: 0 };
window.tradesimReplay = stats;

let chart = null;
let pending = [];
/** Bars this session played while shown: a jump back or forth redraws them (the api's candle route
 * serves only the bars the streamer stored, not a replay's history). */
let played = new Map();
let playedFor = "";
const KEEP_BARS = 20_000;
let onPrice = () => {};

export function setupReplay(candleChart, { created, price }) {
  chart = candleChart;
  onPrice = price;
  const today = new Date().toISOString().slice(0, 10);
  $("replay-start").max = today;
  // A jump goes back or forward in the stored history, never past now.
  $("replay-jump").max = new Date().toISOString().slice(0, 16);
  $("replay-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const day = $("replay-start").value;
    if (!day) return say("replay-message", "Pick a start date", "error");
    const start = Date.parse(`${day}T${$("replay-start-time").value || "00:00"}:00Z`);
    if (!(start < Date.now())) return say("replay-message", "The start must be in the past", "error");
    try {
      const session = await api("POST", "/api/v1/replays", {
        symbol: $("replay-symbol").value, start, speed: $("replay-new-speed").value.trim() || "1",
      });
      say("replay-message", `Replay of ${session.symbol} from ${utc(session.start)} ready`, "ok");
      await created(session);
    } catch (error) {
      say("replay-message", error instanceof ApiError ? refusal(error.code, error.message) : String(error), "error");
    }
  });
  $("replay-play").addEventListener("click", () => control({ action: "play" }));
  $("replay-pause").addEventListener("click", () => control({ action: "pause" }));
  $("replay-step").addEventListener("click", () => control({ action: "step" }));
  $("replay-speed").addEventListener("change", () => control({ action: "speed", speed: $("replay-speed").value }));
  $("replay-jump-go").addEventListener("click", jump);
  setInterval(checkQuiet, QUIET_MS);
}

const QUIET_MS = 2_000;
let lastBarAt = 0;

/** The bar pushes do not say a session finished (its history ran out): a playing session that has
 * sent nothing for a while is read again, and the clock line shows its state. */
async function checkQuiet() {
  const session = state.replay;
  if (!session || session.state !== "playing" || performance.now() - lastBarAt < QUIET_MS) return;
  lastBarAt = performance.now();
  try {
    const now = await api("GET", `/api/v1/replays/${session.replayId}`);
    if (state.replay && state.replay.replayId === now.replayId) {
      state.replay = { ...state.replay, state: now.state };
      showClock();
    }
  } catch {
    // The next check tries again; the socket's status line tells of a lost connection.
  }
}

/** The chosen account is `session`'s (or null: a live account). */
export async function bindReplay(session) {
  if (!session || playedFor !== session.replayId) {
    played = new Map();
    playedFor = session ? session.replayId : "";
  }
  state.replay = session;
  pending = [];
  $("replay-bar").hidden = !session;
  if (!session) return;
  const speed = [...$("replay-speed").options].find((o) => Number(o.value) === Number(session.speed));
  if (speed) $("replay-speed").value = speed.value;
  $("replay-jump").value = new Date(session.clock + 1).toISOString().slice(0, 16);
  await loadBars(session);
  showClock();
}

async function loadBars(session) {
  const end = session.cursor;
  const { list } = await api("GET", `/api/v1/candles?symbol=${session.symbol}&interval=1m&start=${end - HISTORY_BARS * MINUTE}&end=${end}`);
  const known = new Map(list.filter((bar) => bar.start < end).map((bar) => [bar.start, bar]));
  for (const [start, bar] of played) if (start < end) known.set(start, bar);
  if (session.lastCandle) known.set(session.lastCandle.start, session.lastCandle);
  chart.setBars([...known.values()].sort((a, b) => a.start - b.start));
  if (session.lastPrice) onPrice(session.lastPrice);
}

async function control(body) {
  const session = state.replay;
  if (!session) return;
  try {
    const next = await api("POST", `/api/v1/replays/${session.replayId}/control`, body);
    if (state.replay && state.replay.replayId === next.replayId) {
      state.replay = next;
      if (body.action === "seek") await loadBars(next);
      else if (next.lastCandle) {
        pending.push(next.lastCandle);
        inFrame("replay-bars", drawBars);
      }
      showClock();
    }
  } catch (error) {
    say("chart-message", error instanceof ApiError ? refusal(error.code, error.message) : String(error), "error");
  }
}

function jump() {
  const value = $("replay-jump").value;
  if (!value) return say("chart-message", "Pick a time to jump to", "error");
  const to = Date.parse(`${value}Z`);
  if (!(to <= Date.now())) return say("chart-message", "Jump to a past time", "error");
  control({ action: "seek", to });
}

/** A bar the replay played (socket push); drawn with whatever else arrived before the next frame. */
export function onBar(replayId, bars) {
  if (!state.replay || state.replay.replayId !== replayId) return;
  const now = performance.now();
  lastBarAt = now;
  for (const bar of bars) {
    bar.arrived = now;
    pending.push(bar);
    stats.received += 1;
  }
  inFrame("replay-bars", drawBars);
}

function drawBars() {
  const bars = pending;
  pending = [];
  const now = performance.now();
  for (const bar of bars) {
    chart.putBar(bar, true);
    played.set(bar.start, bar);
    if (bar.arrived !== undefined) {
      const waited = now - bar.arrived;
      stats.waitedMs += waited;
      stats.maxWaitMs = Math.max(stats.maxWaitMs, waited);
      stats.applied += 1;
    }
  }
  chart.describe();
  // The oldest first (a Map keeps insertion order): a few per frame, never a copy of them all.
  for (const start of played.keys()) {
    if (played.size <= KEEP_BARS) break;
    played.delete(start);
  }
  const last = bars[bars.length - 1];
  if (last && state.replay) {
    state.replay = { ...state.replay, clock: Math.max(state.replay.clock, last.end), cursor: Math.max(state.replay.cursor, last.end + 1) };
    onPrice(last.close);
    showClock();
  }
}

function showClock() {
  const s = state.replay;
  if (!s) return;
  $("replay-clock").textContent = `${s.symbol} replay at ${utc(s.clock + 1)} (${s.state})`;
}

export function setReplayState(session) {
  if (state.replay && state.replay.replayId === session.replayId) {
    state.replay = { ...state.replay, state: session.state };
    showClock();
  }
}
