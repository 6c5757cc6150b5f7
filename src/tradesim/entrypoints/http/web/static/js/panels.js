// The account's panels: wallet, positions (close, TP/SL), open orders (cancel), order history,
// executions; and what the chart draws for them (price lines, fill markers).

import { api } from "./api.js";
import { isDecimal, isZero, minus, plus, snap, times } from "./decimal.js";
import { $, fill, h, say, utc } from "./dom.js";
import { inFrame } from "./frames.js";
import { accountId, instrument, OPEN, state } from "./state.js";
import { refusal } from "./words.js";

let chart = null;

export function setupPanels(candleChart) {
  chart = candleChart;
}

const RANK = { New: 0, Untriggered: 0, Triggered: 0, PartiallyFilled: 1 };

/** The later of two versions of an order: the socket's push may overtake the POST's answer, and a
 * replay account's engine stamps its versions with the replay's clock, not the wall clock. */
function newer(incoming, known) {
  const a = RANK[incoming.orderStatus] ?? 2;
  const b = RANK[known.orderStatus] ?? 2;
  return a !== b ? a > b : incoming.updatedTime >= known.updatedTime;
}

export function putOrder(order) {
  if (order.accountId !== accountId()) return;
  const known = state.orders.get(order.orderId);
  if (!known || newer(order, known)) state.orders.set(order.orderId, order);
  announce(state.orders.get(order.orderId));
  redraw();
}

/** The outcome of an order this page placed, in the ticket's message. */
function announce(order) {
  if (!state.placed.has(order.orderId)) return;
  if (order.orderStatus === "Rejected") {
    state.placed.delete(order.orderId);
    say("ticket-message", refusal(order.rejectReason), "error");
  } else if (order.orderStatus === "Filled") {
    state.placed.delete(order.orderId);
    say("ticket-message", `${order.side} ${order.cumExecQty} ${order.symbol} filled at ${order.avgPrice}`, "ok");
  }
}

export function putPosition(position) {
  if (position.accountId !== accountId()) return;
  if (isZero(position.size)) state.positions.delete(position.symbol);
  else state.positions.set(position.symbol, { ...state.positions.get(position.symbol), ...position });
  redraw();
}

/** A new mark price revalues the open position on screen (the server pushes positions only when they
 * change); exact decimal arithmetic, as the server's. */
export function markPrice(symbol, mark) {
  const p = state.positions.get(symbol);
  if (!p || !mark || !isDecimal(mark) || !p.avgPrice) return;
  if (p.markPrice === mark) return;
  const move = p.side === "Buy" ? minus(mark, p.avgPrice) : minus(p.avgPrice, mark);
  state.positions.set(symbol, { ...p, markPrice: mark, unrealisedPnl: times(move, p.size) });
  revalueWallet();
  // A few cells change in place: rebuilding the rows at the ticker's pace would swallow a click on Close.
  inFrame(`mark.${symbol}`, () => {
    const now = state.positions.get(symbol);
    const row = now && $("positions").querySelector(`tr[data-symbol="${symbol}"]`);
    if (row) {
      row.querySelector(".mark").textContent = now.markPrice;
      row.querySelector(".upnl").textContent = now.unrealisedPnl;
    }
    for (const figure of ["equity", "unrealisedPnl"]) {
      const cell = $("wallet").querySelector(`[data-figure="${figure}"]`);
      if (cell && state.wallet) cell.textContent = `${state.wallet[figure]} USDT`;
    }
  });
}

/** Equity is the wallet balance plus the positions' unrealised PnL (Bybit's definition), kept in step
 * with the revalued positions until the next wallet push brings the server's figures. */
function revalueWallet() {
  const w = state.wallet;
  if (!w || !isDecimal(w.walletBalance)) return;
  let unrealised = "0";
  for (const p of state.positions.values()) if (p.unrealisedPnl) unrealised = plus(unrealised, p.unrealisedPnl);
  state.wallet = { ...w, unrealisedPnl: unrealised, equity: plus(w.walletBalance, unrealised) };
}

export function putExecution(execution) {
  if (execution.accountId !== accountId()) return;
  if (!state.executions.some((e) => e.execId === execution.execId)) state.executions.unshift(execution);
  redraw();
}

export function putWallet(wallet) {
  if (wallet.accountId !== accountId()) return;
  state.wallet = wallet;
  redraw();
}

export function commandRejected(rejection) {
  if (rejection.accountId !== accountId()) return;
  const what = { cancel: "Cancel", amend: "Amend", "trading-stop": "TP/SL", "set-leverage": "Leverage" }[rejection.command];
  say("ticket-message", `${what || rejection.command}: ${refusal(rejection.error.code, rejection.error.message)}`, "error");
}

/** Everything of the account, read afresh (a new account, a reconnect). Pushes that arrive while the
 * reads are under way are newer than what the reads may return: the two are merged, never replaced. */
export async function loadAccount() {
  const id = accountId();
  state.orders.clear();
  state.positions.clear();
  state.executions = [];
  state.wallet = null;
  if (!id) return redraw();
  const [orders, positions, executions, account] = await Promise.all([
    api("GET", `/api/v1/orders?accountId=${id}&limit=200`),
    api("GET", `/api/v1/positions?accountId=${id}`),
    api("GET", `/api/v1/executions?accountId=${id}`),
    api("GET", `/api/v1/accounts/${id}`),
  ]);
  if (id !== accountId()) return;
  for (const o of orders.list) {
    const known = state.orders.get(o.orderId);
    if (!known || newer(o, known)) state.orders.set(o.orderId, o);
  }
  for (const p of positions.list) {
    const known = state.positions.get(p.symbol);
    if (!known && !isZero(p.size)) state.positions.set(p.symbol, p);
  }
  const seen = new Set(state.executions.map((e) => e.execId));
  state.executions = [...state.executions, ...executions.list.filter((e) => !seen.has(e.execId))].sort(
    (a, b) => b.execTime - a.execTime,
  );
  if (!state.wallet) state.wallet = account;
  redraw();
}

export function redraw() {
  inFrame("panels", drawPanels);
}

function drawPanels() {
  drawWallet();
  drawPositions();
  drawOrders();
  drawExecutions();
  drawChartMarks();
}

function drawWallet() {
  const w = state.wallet;
  const figures = w
    ? [["Balance", "walletBalance"], ["Equity", "equity"], ["Available", "availableBalance"],
      ["Unrealised PnL", "unrealisedPnl"], ["Position margin", "totalPositionIM"], ["Order margin", "totalOrderIM"]]
    : [];
  $("wallet").replaceChildren(...figures.flatMap(([name, key]) =>
    [h("dt", {}, name), h("dd", { "data-figure": key }, `${w[key]} USDT`)]));
}

function drawPositions() {
  const rows = [...state.positions.values()].map((p) => {
    const tp = h("input", { "aria-label": `Take profit for ${p.symbol}`, value: p.takeProfit, inputmode: "decimal" });
    const sl = h("input", { "aria-label": `Stop loss for ${p.symbol}`, value: p.stopLoss, inputmode: "decimal" });
    return h("tr", { "data-symbol": p.symbol },
      h("td", {}, p.symbol), h("td", { class: p.side }, p.side), h("td", {}, p.size), h("td", {}, p.avgPrice),
      h("td", { class: "mark" }, p.markPrice), h("td", { class: "upnl" }, p.unrealisedPnl), h("td", {}, p.liqPrice || "-"),
      h("td", {}, h("span", { class: "pair" }, tp, sl)),
      h("td", {},
        h("button", { type: "button", class: "small", "aria-label": `Set TP/SL for ${p.symbol}`,
          onclick: () => tradingStop(p, tp.value.trim(), sl.value.trim()) }, "Set TP/SL"), " ",
        h("button", { type: "button", class: "small secondary", "aria-label": `Close ${p.symbol} position`,
          onclick: () => closePosition(p) }, "Close")));
  });
  // Focus inside the table (typing a TP) must survive a redraw: skip it while the user edits.
  if ($("positions").contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
  fill($("positions"), rows, 9, "No open position");
}

function drawOrders() {
  const orders = [...state.orders.values()].sort((a, b) => b.createdTime - a.createdTime);
  const open = orders.filter((o) => OPEN.has(o.orderStatus));
  fill($("open-orders"), open.map((o) => h("tr", {},
    h("td", {}, utc(o.createdTime)), h("td", {}, o.symbol), h("td", { class: o.side }, o.side),
    h("td", {}, o.orderType), h("td", {}, o.price || "Market"), h("td", {}, o.triggerPrice || "-"),
    h("td", {}, o.qty), h("td", {}, o.cumExecQty), h("td", {}, o.orderStatus),
    h("td", {}, h("button", { type: "button", class: "small secondary", "aria-label": `Cancel ${o.side} ${o.qty} ${o.symbol} at ${o.price || o.triggerPrice}`,
      onclick: () => cancelOrder(o) }, "Cancel")))), 10, "No open order");
  const done = orders.filter((o) => !OPEN.has(o.orderStatus));
  fill($("order-history"), done.map((o) => h("tr", {},
    h("td", {}, utc(o.updatedTime)), h("td", {}, o.symbol), h("td", { class: o.side }, o.side), h("td", {}, o.orderType),
    h("td", {}, o.price || "Market"), h("td", {}, o.qty), h("td", {}, o.avgPrice || "-"), h("td", {}, o.orderStatus),
    h("td", {}, o.rejectReason ? refusal(o.rejectReason) : o.cancelType || ""))), 9, "No past order");
  $("tab-open").textContent = open.length ? `Open orders (${open.length})` : "Open orders";
}

function drawExecutions() {
  fill($("executions"), state.executions.slice(0, 200).map((e) => h("tr", {},
    h("td", {}, utc(e.execTime)), h("td", {}, e.symbol), h("td", { class: e.side }, e.side), h("td", {}, e.execPrice),
    h("td", {}, e.execQty), h("td", {}, e.execFee), h("td", {}, e.isMaker ? "Maker" : "Taker"),
    h("td", {}, e.execPnl))), 8, "No execution");
}

function drawChartMarks() {
  const lines = [];
  for (const o of state.orders.values()) {
    if (o.symbol !== state.symbol || !OPEN.has(o.orderStatus)) continue;
    const price = o.triggerPrice && !isZero(o.triggerPrice) ? o.triggerPrice : o.price;
    if (price && !isZero(price) && !["TakeProfit", "StopLoss"].includes(o.stopOrderType)) lines.push({ kind: "order", price, title: `${o.side} ${o.qty}` });
  }
  const p = state.positions.get(state.symbol);
  if (p) {
    lines.push({ kind: "entry", price: p.avgPrice, title: `${p.side} ${p.size}` });
    if (p.takeProfit && !isZero(p.takeProfit)) lines.push({ kind: "tp", price: p.takeProfit, title: "TP" });
    if (p.stopLoss && !isZero(p.stopLoss)) lines.push({ kind: "sl", price: p.stopLoss, title: "SL" });
    if (p.liqPrice && !isZero(p.liqPrice)) lines.push({ kind: "liq", price: p.liqPrice, title: "Liq." });
  }
  chart.setLines(lines);
  chart.setFills(state.executions.filter((e) => e.symbol === state.symbol));
}

async function cancelOrder(order) {
  try {
    await api("DELETE", `/api/v1/orders/${order.orderId}`);
    say("ticket-message", `Cancelling the ${order.side} ${order.qty} ${order.symbol} order`);
  } catch (error) {
    say("ticket-message", refusal(error.code, error.message), "error");
  }
}

async function closePosition(position) {
  const body = {
    accountId: accountId(), symbol: position.symbol, side: position.side === "Buy" ? "Sell" : "Buy",
    orderType: "Market", qty: position.size, reduceOnly: true,
  };
  try {
    const order = await api("POST", "/api/v1/orders", body);
    state.placed.add(order.orderId);
    say("ticket-message", `Closing ${position.size} ${position.symbol}`);
    putOrder(order);
  } catch (error) {
    say("ticket-message", refusal(error.code, error.message), "error");
  }
}

async function tradingStop(position, takeProfit, stopLoss) {
  const i = instrument(position.symbol);
  const body = { accountId: accountId(), symbol: position.symbol };
  for (const [key, value] of [["takeProfit", takeProfit], ["stopLoss", stopLoss]]) {
    if (!value) body[key] = "0";
    else if (!isDecimal(value)) return say("ticket-message", `${key === "takeProfit" ? "Take profit" : "Stop loss"} must be a decimal number`, "error");
    else body[key] = i ? snap(value, i.tickSize) : value;
  }
  try {
    await api("POST", "/api/v1/positions/trading-stop", body);
    say("ticket-message", `TP/SL for ${position.symbol} sent`, "ok");
  } catch (error) {
    say("ticket-message", refusal(error.code, error.message), "error");
  }
}
