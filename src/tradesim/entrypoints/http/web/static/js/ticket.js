// The order ticket: Buy / Sell, Market / Limit / Conditional, quantity and prices snapped to the
// instrument's steps, TP/SL, reduce-only, time in force; the engine's refusals in words.

import { api, ApiError } from "./api.js";
import { compare, isDecimal, isZero, snap } from "./decimal.js";
import { $, say } from "./dom.js";
import { putOrder } from "./panels.js";
import { accountId, instrument, state } from "./state.js";
import { refusal } from "./words.js";

export function setupTicket() {
  $("order-type").addEventListener("change", ticketMode);
  $("qty").addEventListener("change", () => snapField("qty", "qtyStep", "down"));
  for (const id of ["price", "trigger-price", "take-profit", "stop-loss"]) {
    $(id).addEventListener("change", () => snapField(id, "tickSize", "nearest"));
  }
  $("ticket").addEventListener("submit", (event) => {
    event.preventDefault();
    placeOrder(event.submitter ? event.submitter.value : "Buy");
  });
  ticketMode();
}

function ticketMode() {
  const type = $("order-type").value;
  $("price").disabled = type === "Market";
  $("trigger-row").hidden = type !== "Conditional";
  $("tif").disabled = type === "Market";
  $("price-hint").textContent = type === "Conditional" ? "empty: a market order when triggered" : $("price-hint").dataset.grid || "";
}

let describedSymbol = "";

export function describeInstrument() {
  const i = instrument();
  if (!i) return;
  // Another symbol's quantity and prices mean nothing here (and sit off this one's steps).
  if (describedSymbol && describedSymbol !== i.symbol) {
    for (const id of ["qty", "price", "trigger-price", "take-profit", "stop-loss"]) $(id).value = "";
  }
  describedSymbol = i.symbol;
  $("qty-hint").textContent = `step ${i.qtyStep}, min ${i.minOrderQty}, max ${i.maxOrderQty}`;
  $("price-hint").dataset.grid = `tick ${i.tickSize}`;
  ticketMode();
  if (!$("qty").value) $("qty").value = i.minOrderQty;
}

/** The field's value on the instrument's grid; says so when it moved. */
function snapField(id, gridField, mode) {
  const i = instrument();
  const input = $(id);
  const text = input.value.trim();
  if (!i || !text) return true;
  if (!isDecimal(text)) {
    say("ticket-message", `${input.labels[0].textContent} must be a plain decimal number, such as 0.01`, "error");
    return false;
  }
  const snapped = snap(text, i[gridField], mode);
  if (compare(snapped, text) !== 0) {
    input.value = snapped;
    say("ticket-message", `${input.labels[0].textContent} snapped to ${snapped} (step ${i[gridField]})`);
  }
  return true;
}

function ticketBody(side) {
  const i = instrument();
  const type = $("order-type").value;
  for (const [id, grid, mode] of [["qty", "qtyStep", "down"], ["price", "tickSize", "nearest"],
    ["trigger-price", "tickSize", "nearest"], ["take-profit", "tickSize", "nearest"], ["stop-loss", "tickSize", "nearest"]]) {
    if (!snapField(id, grid, mode)) return null;
  }
  const qty = $("qty").value.trim();
  if (!qty || isZero(qty)) return fail("Enter a quantity");
  if (compare(qty, i.minOrderQty) < 0) return fail(`Quantity must be at least ${i.minOrderQty}`);
  const body = { accountId: accountId(), symbol: state.symbol, side, qty, orderType: "Market" };
  const price = $("price").value.trim();
  if (type === "Limit") {
    if (!price) return fail("Enter a price for a limit order");
    Object.assign(body, { orderType: "Limit", price, timeInForce: $("tif").value });
  }
  if (type === "Conditional") {
    const trigger = $("trigger-price").value.trim();
    if (!trigger) return fail("Enter a trigger price for a conditional order");
    if (!state.lastPrice) return fail("No market price yet to tell which way the trigger is");
    body.triggerPrice = trigger;
    body.triggerDirection = compare(trigger, state.lastPrice) >= 0 ? 1 : 2;
    if (price) Object.assign(body, { orderType: "Limit", price, timeInForce: $("tif").value });
  }
  const tp = $("take-profit").value.trim();
  const sl = $("stop-loss").value.trim();
  if (tp) body.takeProfit = tp;
  if (sl) body.stopLoss = sl;
  if ($("reduce-only").checked) body.reduceOnly = true;
  return body;
}

function fail(text) {
  say("ticket-message", text, "error");
  return null;
}

async function placeOrder(side) {
  if (!state.account) return fail("Create or choose an account first");
  const body = ticketBody(side);
  if (!body) return;
  try {
    const order = await api("POST", "/api/v1/orders", body);
    state.placed.add(order.orderId);
    say("ticket-message", `${side} ${order.qty} ${order.symbol} ${order.orderType.toLowerCase()} order sent`, "ok");
    putOrder(order);
  } catch (error) {
    say("ticket-message", error instanceof ApiError ? refusal(error.code, error.message) : String(error), "error");
  }
}
