// The trader's screen: sign-in, accounts, the chart and the socket that keeps everything live.

import { api, ApiError, forgetUnlessTransient, hasSession, login, logout, onSessionChange, refresh, register } from "./api.js";
import { onRunPush, setupBacktest } from "./backtest.js";
import { CandleChart } from "./chart.js";
import { $, h, say } from "./dom.js";
import { inFrame } from "./frames.js";
import { loadJournal, setupJournal } from "./journal.js";
import { bindReplay, onBar, setupReplay } from "./replay.js";
import { Socket } from "./socket.js";
import { setupStrategies, strategyChoices } from "./strategies.js";
import { accountId, instrument, state } from "./state.js";
import {
  commandRejected, loadAccount, markPrice, putExecution, putOrder, putPosition, putWallet, redraw, setupPanels,
} from "./panels.js";
import { describeInstrument, setupTicket } from "./ticket.js";
import { refusal } from "./words.js";

const ACCOUNT_KEY = "tradesim.accountId";
const PRIVATE = ["order", "execution", "position", "wallet", "commandRejected"];
const MINUTE = 60_000;
const LIVE_BARS = 600;

const chart = new CandleChart($("chart"));
const socket = new Socket(onPush, onStatus);
let everLive = false;
let ticks = null;
let minute = 0;

function showAuth() {
  socket.stop();
  $("app").hidden = true;
  $("auth").hidden = false;
  $("auth-email").focus();
}

async function showApp() {
  $("auth").hidden = true;
  $("app").hidden = false;
  const { list } = await api("GET", "/api/v1/instruments?category=linear");
  state.instruments = new Map(list.map((i) => [i.symbol, i]));
  const options = () => list.map((i) => h("option", { value: i.symbol }, i.symbol));
  $("symbol").replaceChildren(...options());
  $("replay-symbol").replaceChildren(...options());
  if (!state.instruments.has(state.symbol) && list.length) state.symbol = list[0].symbol;
  $("symbol").value = state.symbol;
  await loadAccounts(localStorage.getItem(ACCOUNT_KEY));
  socket.start();
}

async function loadAccounts(preferred) {
  const [accounts, replays] = await Promise.all([api("GET", "/api/v1/accounts"), api("GET", "/api/v1/replays?limit=100")]);
  state.accounts = accounts.list;
  state.replays = new Map(replays.list.map((r) => [r.accountId, r]));
  $("account").replaceChildren(...state.accounts.map((a) =>
    h("option", { value: a.accountId }, a.kind === "replay" ? `${a.name} (replay)` : a.name)));
  strategyChoices();
  if (!state.accounts.length) {
    toggleAccountForm(true);
    say("account-message", "Create your first account to start trading");
    return chooseAccount(null);
  }
  const chosen = state.accounts.find((a) => a.accountId === preferred) || state.accounts.find((a) => a.kind !== "replay") || state.accounts[0];
  await chooseAccount(chosen.accountId);
}

async function chooseAccount(id) {
  state.account = state.accounts.find((a) => a.accountId === id) || null;
  if (id) localStorage.setItem(ACCOUNT_KEY, id);
  $("account").value = id || "";
  let session = null;
  if (state.account && state.account.kind === "replay") {
    session = state.replays.get(id) || null;
    if (session) session = await api("GET", `/api/v1/replays/${session.replayId}`);
  }
  if (session) state.symbol = session.symbol;
  $("symbol").value = state.symbol;
  $("symbol").disabled = Boolean(session);
  state.replay = session;
  subscribe();
  describeInstrument();
  chart.setSymbol(state.symbol, instrument().tickSize);
  state.lastPrice = "";
  showPrice("");
  if (session) await bindReplay(session);
  else {
    await bindReplay(null);
    await loadLiveBars();
  }
  await Promise.all([loadAccount(), loadJournal()]);
}

function subscribe() {
  const topics = [...PRIVATE];
  if (state.replay) topics.push(`replay.${state.replay.replayId}`);
  else topics.push(`tickers.${state.symbol}`);
  socket.want(topics);
}

async function loadLiveBars() {
  const symbol = state.symbol;
  const end = Date.now();
  const { list } = await api("GET", `/api/v1/candles?symbol=${symbol}&interval=1m&start=${end - LIVE_BARS * MINUTE}&end=${end}`);
  if (symbol !== state.symbol || state.replay) return; // the user moved on meanwhile
  chart.setBars(list);
  minute = Math.floor(end / MINUTE);
}

/** Closed bars carry the volume a tick cannot: fetched once a minute turns over. */
async function refreshRecentBars() {
  const symbol = state.symbol;
  const end = Date.now();
  const { list } = await api("GET", `/api/v1/candles?symbol=${symbol}&interval=1m&start=${end - 3 * MINUTE}&end=${end}`);
  if (symbol !== state.symbol || state.replay) return;
  for (const bar of list) if (!chart.last || bar.start / 1000 >= chart.last.time) chart.putBar(bar);
}

function showPrice(price) {
  state.lastPrice = price;
  $("last-price").textContent = price ? `${state.symbol} ${price}` : "";
}

function onTicker(ticker) {
  if (state.replay || ticker.symbol !== state.symbol || !ticker.lastPrice) return;
  const value = Number(ticker.lastPrice);
  // Every tick between two frames shapes the bar (its high and low), only the frame draws it.
  if (!ticks) ticks = { high: value, low: value, last: ticker.lastPrice, ts: ticker.ts, mark: "" };
  ticks.high = Math.max(ticks.high, value);
  ticks.low = Math.min(ticks.low, value);
  ticks.last = ticker.lastPrice;
  ticks.ts = ticker.ts;
  ticks.mark = ticker.markPrice || ticker.lastPrice;
  inFrame("ticker", () => {
    const t = ticks;
    ticks = null;
    if (!t) return;
    chart.putPrice(String(t.high), t.ts);
    chart.putPrice(String(t.low), t.ts);
    chart.putPrice(t.last, t.ts);
    showPrice(t.last);
    markPrice(state.symbol, t.mark);
    const now = Math.floor(t.ts / MINUTE);
    if (now > minute) {
      minute = now;
      setTimeout(() => refreshRecentBars().catch(() => {}), 2_000);
    }
  });
}

function onPush(message) {
  const topic = message.topic;
  if (topic.startsWith("tickers.")) return onTicker(message.data);
  if (topic.startsWith("replay.")) return onBar(topic.slice("replay.".length), message.data);
  if (topic.startsWith("strategy-run.")) return onRunPush(topic.slice("strategy-run.".length), message.data);
  for (const row of message.data || []) {
    if (topic === "order") putOrder(row);
    else if (topic === "execution") putExecution(row);
    else if (topic === "position") putPosition(row);
    else if (topic === "wallet") putWallet(row);
    else if (topic === "commandRejected") commandRejected(row);
  }
  if (topic === "execution") inFrame("journal", () => loadJournal().catch(() => {}));
}

function onStatus(status, problem) {
  const element = $("connection");
  element.textContent = problem ? `${status}: ${problem}` : status;
  element.className = `connection ${status}`;
  if (status === "live") {
    // After a reconnect, what happened meanwhile was not pushed: read it again.
    if (everLive && !problem) loadAccount().catch(() => {});
    everLive = true;
  }
}

function toggleAccountForm(open) {
  $("account-form").hidden = !open;
  $("new-account").setAttribute("aria-expanded", String(open));
  if (open) $("account-name").focus();
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const chosen = t === tab;
      t.setAttribute("aria-selected", String(chosen));
      t.tabIndex = chosen ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !chosen;
    }
    tab.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(tab);
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length]);
    });
  }
}

function setup() {
  setupTabs();
  setupPanels(chart);
  setupTicket();
  setupJournal(chart);
  setupBacktest(socket);
  setupStrategies();
  setupReplay(chart, {
    created: async (session) => {
      await loadAccounts(session.accountId);
    },
    // A replay's price is its last bar's close: its mark too.
    price: (price) => {
      showPrice(price);
      markPrice(state.symbol, price);
    },
  });
  $("auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("auth-email").value.trim();
    const password = $("auth-password").value;
    const action = event.submitter ? event.submitter.value : "login";
    try {
      if (action === "register") {
        await register(email, password);
        say("auth-message", "Account created; logging in", "ok");
      }
      await login(email, password);
      $("auth-password").value = "";
      say("auth-message", "");
      await showApp();
    } catch (error) {
      say("auth-message", error instanceof ApiError ? error.message : String(error), "error");
    }
  });
  $("logout").addEventListener("click", () => logout());
  onSessionChange((signedIn) => {
    if (!signedIn) showAuth();
  });
  $("new-account").addEventListener("click", () => toggleAccountForm($("account-form").hidden));
  $("account-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: $("account-name").value.trim() };
    const balance = $("account-balance").value.trim();
    if (balance) body.startingBalance = balance;
    try {
      const account = await api("POST", "/api/v1/accounts", body);
      toggleAccountForm(false);
      say("account-message", "");
      await loadAccounts(account.accountId);
    } catch (error) {
      say("account-message", error instanceof ApiError ? refusal(error.code, error.message) : String(error), "error");
    }
  });
  $("account").addEventListener("change", () => chooseAccount($("account").value));
  $("symbol").addEventListener("change", async () => {
    state.symbol = $("symbol").value;
    await chooseAccount(accountId());
    redraw();
  });
}

async function start() {
  setup();
  if (!hasSession()) return showAuth();
  try {
    await refresh();
  } catch (error) {
    forgetUnlessTransient(error); // an expired or revoked session: sign in again
    return showAuth();
  }
  await showApp();
}

start();
