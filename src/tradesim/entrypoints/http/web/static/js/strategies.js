// The Strategies panel: the installed strategies and their hyperparameters, a backtest started or a
// strategy deployed from one form, the past backtests and the deployments (stop). The api checks
// every value; its refusal is shown next to the field it names.

import { api, ApiError } from "./api.js";
import { watchRun } from "./backtest.js";
import { $, fill, h, say, utc } from "./dom.js";
import { state } from "./state.js";
import { refusal } from "./words.js";

const DEPLOY_POLL_MS = 5_000;
const ACTIVE_RUN = new Set(["queued", "running"]);

let strategies = [];
let loaded = false;
let deployments = [];

export function setupStrategies() {
  $("strategy").addEventListener("change", showStrategy);
  $("strategy-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.value === "deploy") deploy();
    else startBacktest();
  });
  $("tab-strategies").addEventListener("click", () => openPanel());
  $("tab-strategies").addEventListener("focus", () => openPanel());
  // The tab may stay open a long time: the deployments' status and last decision are read again.
  setInterval(() => {
    if ($("panel-strategies").hidden) return;
    if (deployments.some((d) => d.status === "running")) loadDeployments().catch(() => {});
    // The api learns the installed strategies from the workers: a server just started may not know them yet.
    if (loaded && !strategies.length) loadStrategies().catch(shown);
  }, DEPLOY_POLL_MS);
}

/** The panel is read when it is first shown (a trader who never opens it costs the api nothing). */
async function openPanel() {
  if (loaded) return;
  loaded = true;
  await Promise.all([loadStrategies(), loadRuns(), loadDeployments()].map((p) => p.catch(shown)));
}

function shown(error) {
  say("strategy-message", error instanceof ApiError ? refusal(error.code, error.message) : String(error), "error");
}

/** Accounts or instruments changed (a new account, a new replay): the form's choices follow. */
export function strategyChoices() {
  const symbol = $("strategy-symbol").value;
  $("strategy-symbol").replaceChildren(...[...state.instruments.keys()].map((s) => h("option", { value: s }, s)));
  if (symbol) $("strategy-symbol").value = symbol;
  const account = $("deploy-account").value;
  $("deploy-account").replaceChildren(...state.accounts.map((a) =>
    h("option", { value: a.accountId }, a.kind === "replay" ? `${a.name} (replay)` : a.name)));
  const keep = state.accounts.find((a) => a.accountId === account) || state.account || state.accounts[0];
  if (keep) $("deploy-account").value = keep.accountId;
  if (deployments.length) drawDeployments();
}

async function loadStrategies() {
  const { list } = await api("GET", "/api/v1/strategies");
  strategies = list;
  $("strategy").replaceChildren(...list.map((s) => h("option", { value: s.name }, s.name)));
  const before = $("strategy").value;
  if (list.some((s) => s.name === before)) $("strategy").value = before;
  if (!list.length) say("strategy-message", "No strategy is known yet: none is installed, or no worker has started");
  else if (!$("strategy-message").classList.contains("error")) say("strategy-message", "");
  showStrategy();
}

function chosen() {
  return strategies.find((s) => s.name === $("strategy").value) || null;
}

/** The chosen strategy's timeframes and one input per hyperparameter, at its default. */
function showStrategy() {
  clearErrors();
  const s = chosen();
  const timeframe = $("timeframe").value;
  $("timeframe").replaceChildren(...(s ? s.timeframes : []).map((t) => h("option", { value: t }, t)));
  if (s && s.timeframes.includes(timeframe)) $("timeframe").value = timeframe;
  const about = s ? `${s.source === "builtin" ? "Built in" : "Installed from a folder"}; timeframes ${s.timeframes.join(", ")}` : "";
  // A strategy that failed to load is listed with its error: running it would be refused with it.
  $("strategy-about").textContent = s && s.error ? `${about}. It cannot run: ${s.error}` : about;
  const params = s ? s.hyperparameters : [];
  $("hyperparameters").hidden = params.length === 0;
  $("hp-fields").replaceChildren(...params.map(hpField));
}

function hpField(p) {
  const id = `hp-${p.name}`;
  const range = p.min !== undefined && p.min !== null ? `${p.min} to ${p.max}` : "";
  const hint = [p.type, range, `default ${p.default}`].filter(Boolean).join(", ");
  let input;
  if (p.type === "bool") {
    input = h("select", { id, "data-hp": p.name, "aria-describedby": `${id}-hint ${id}-error` },
      h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false"));
    input.value = String(p.default).toLowerCase() === "true" ? "true" : "false";
  } else if (p.type === "categorical" && Array.isArray(p.options)) {
    input = h("select", { id, "data-hp": p.name, "aria-describedby": `${id}-hint ${id}-error` },
      p.options.map((o) => h("option", { value: String(o) }, String(o))));
    input.value = String(p.default);
  } else {
    input = h("input", { id, "data-hp": p.name, value: String(p.default), autocomplete: "off",
      inputmode: p.type === "int" ? "numeric" : "decimal", "aria-describedby": `${id}-hint ${id}-error` });
  }
  return h("div", { class: "hp" },
    h("label", { for: id }, p.name), input,
    h("small", { id: `${id}-hint`, class: "hint" }, hint),
    h("small", { id: `${id}-error`, class: "field-error" }));
}

/** The hyperparameters as typed (the api types and checks them against the strategy's list). */
function hyperparameters() {
  const values = {};
  for (const input of $("hp-fields").querySelectorAll("[data-hp]")) {
    const text = input.value.trim();
    if (text !== "") values[input.dataset.hp] = text;
  }
  return values;
}

/** "2024-03-04T10:00" read as UTC, in epoch ms; NaN when empty. */
function utcMs(id) {
  const value = $(id).value;
  return value ? Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`) : NaN;
}

async function startBacktest() {
  clearErrors();
  const start = utcMs("backtest-from");
  const end = utcMs("backtest-to");
  if (Number.isNaN(start)) return fieldError("backtest-from", "Pick the start of the backtest");
  if (Number.isNaN(end)) return fieldError("backtest-to", "Pick the end of the backtest");
  const body = {
    strategy: $("strategy").value, symbol: $("strategy-symbol").value, timeframe: $("timeframe").value, start, end,
    hyperparameters: hyperparameters(),
  };
  const balance = $("backtest-balance").value.trim();
  if (balance) body.startingBalance = balance;
  const leverage = $("backtest-leverage").value.trim();
  if (leverage) body.leverage = /^\d+$/.test(leverage) ? Number(leverage) : leverage;
  try {
    const run = await api("POST", "/api/v1/strategy-runs", body);
    say("strategy-message", `Backtest of ${run.strategy || body.strategy} on ${body.symbol} started`, "ok");
    watchRun(run, loadRuns);
    await loadRuns();
  } catch (error) {
    refused(error);
  }
}

async function deploy() {
  clearErrors();
  const accountId = $("deploy-account").value;
  if (!accountId) return fieldError("deploy-account", "Create an account to deploy on first");
  const body = {
    strategy: $("strategy").value, accountId, symbol: $("strategy-symbol").value, timeframe: $("timeframe").value,
    hyperparameters: hyperparameters(),
  };
  try {
    const made = await api("POST", "/api/v1/strategy-deployments", body);
    say("strategy-message", `${body.strategy} deployed on ${accountName(accountId)} (${body.symbol} ${body.timeframe})`, "ok");
    put(made);
    await loadDeployments();
  } catch (error) {
    refused(error);
  }
}

// What the api's refusal names, and the field that holds it: hyperparameters by their own names.
const FIELDS = [
  [/\bstrategy\b/i, "strategy"], [/\bsymbol\b/i, "strategy-symbol"], [/\btimeframe\b/i, "timeframe"],
  [/\bstart\b/i, "backtest-from"], [/\bend\b/i, "backtest-to"], [/\b(startingBalance|balance)\b/i, "backtest-balance"],
  [/\bleverage\b/i, "backtest-leverage"], [/\baccount/i, "deploy-account"],
];

function refused(error) {
  if (!(error instanceof ApiError)) return say("strategy-message", String(error), "error");
  const text = refusal(error.code, error.message);
  say("strategy-message", text, "error");
  const names = [...$("hp-fields").querySelectorAll("[data-hp]")].map((i) => i.dataset.hp).sort((a, b) => b.length - a.length);
  const hp = names.find((name) => new RegExp(`(^|[^\\w])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w])`).test(error.message));
  if (hp) return fieldError(`hp-${hp}`, error.message, false);
  // The field the message names first ("end must be after start" is about the end).
  const named = FIELDS.map(([pattern, id]) => [error.message.search(pattern), id]).filter(([at]) => at >= 0);
  named.sort((a, b) => a[0] - b[0]);
  if (named.length) fieldError(named[0][1], error.message, false);
}

function fieldError(id, text, alsoForm = true) {
  const input = $(id);
  input.setAttribute("aria-invalid", "true");
  const slot = $(`${id}-error`);
  if (slot) slot.textContent = text;
  if (alsoForm) say("strategy-message", text, "error");
  input.focus();
}

function clearErrors() {
  for (const input of $("strategy-form").querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
  for (const slot of $("strategy-form").querySelectorAll(".field-error")) slot.textContent = "";
  say("strategy-message", "");
}

// ---- past backtests

export async function loadRuns() {
  const { list } = await api("GET", "/api/v1/strategy-runs");
  const rows = list.sort((a, b) => (b.createdTime || 0) - (a.createdTime || 0)).map((r) => {
    const what = `${r.strategy} ${r.symbol} ${r.timeframe} from ${utc(r.start)}`;
    return h("tr", {},
      h("td", {}, r.strategy), h("td", {}, r.symbol), h("td", {}, r.timeframe), h("td", {}, utc(r.start)), h("td", {}, utc(r.end)),
      h("td", {}, r.status), h("td", {}, `${Math.floor(Number(r.progress || 0) * 100)} %`),
      h("td", {},
        h("button", { type: "button", class: "small secondary", "aria-label": `Show backtest ${what}`,
          onclick: () => watchRun(r, loadRuns) }, "Show"),
        ACTIVE_RUN.has(r.status)
          ? [" ", h("button", { type: "button", class: "small secondary", "aria-label": `Cancel backtest ${what}`,
            onclick: () => cancelRun(r.runId) }, "Cancel")]
          : null));
  });
  fill($("runs"), rows, 8, "No backtest yet");
}

export async function cancelRun(runId) {
  try {
    await api("DELETE", `/api/v1/strategy-runs/${runId}`);
    say("strategy-message", "Backtest cancelled", "ok");
  } catch (error) {
    shown(error); // about the run, not the form's fields
  }
  await loadRuns().catch(() => {});
}

// ---- deployments

function accountName(id) {
  const a = state.accounts.find((x) => x.accountId === id);
  return a ? a.name : id;
}

function put(deployment) {
  const at = deployments.findIndex((d) => d.deploymentId === deployment.deploymentId);
  if (at >= 0) deployments[at] = { ...deployments[at], ...deployment };
  else deployments.unshift(deployment);
  drawDeployments();
}

async function loadDeployments() {
  const { list } = await api("GET", "/api/v1/strategy-deployments");
  deployments = list;
  drawDeployments();
}

function drawDeployments() {
  fill($("deployments"), deployments.map((d) => {
    const what = `${d.strategy} on ${accountName(d.accountId)} ${d.symbol}`;
    return h("tr", { "data-deployment": d.deploymentId },
      h("td", {}, d.strategy), h("td", {}, accountName(d.accountId)), h("td", {}, d.symbol), h("td", {}, d.timeframe),
      h("td", {}, d.status), h("td", {}, d.lastDecisionTime ? utc(d.lastDecisionTime) : "none yet"),
      h("td", { class: d.error ? "error-text" : "" }, d.error || ""),
      h("td", {}, d.status === "running"
        ? h("button", { type: "button", class: "small secondary", "aria-label": `Stop ${what}`, onclick: () => stop(d) }, "Stop")
        : null));
  }), 8, "No deployment yet");
}

async function stop(deployment) {
  try {
    const stopped = await api("POST", `/api/v1/strategy-deployments/${deployment.deploymentId}/stop`);
    put(stopped && stopped.deploymentId ? stopped : { ...deployment, status: "stopped" });
    say("strategy-message", `${deployment.strategy} on ${accountName(deployment.accountId)} stopped`, "ok");
    await loadDeployments();
  } catch (error) {
    shown(error);
  }
}
