// The journal: entries with notes, tags and chart screenshots, and the account's statistics.

import { api, ApiError } from "./api.js";
import { lineChart } from "./chart.js";
import { $, h, say, utc } from "./dom.js";
import { accountId } from "./state.js";
import { refusal } from "./words.js";

let chart = null;
let drawEquity = null;
const imageUrls = [];

export function setupJournal(candleChart) {
  chart = candleChart;
  $("journal-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = $("journal-title").value.trim();
    if (!title) return say("journal-message", "Give the entry a title", "error");
    const tags = $("journal-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    try {
      const entry = await api("POST", "/api/v1/journal", {
        title, notes: $("journal-notes").value, tags, accountId: accountId(),
      });
      if ($("journal-screenshot").checked) await attachScreenshot(entry.entryId);
      $("journal-form").reset();
      $("journal-screenshot").checked = true;
      say("journal-message", `Saved “${entry.title}”`, "ok");
      await loadJournal();
    } catch (error) {
      say("journal-message", error instanceof ApiError ? refusal(error.code, error.message) : String(error), "error");
    }
  });
}

async function attachScreenshot(entryId) {
  const form = new FormData();
  form.append("file", await chart.screenshot(), `chart-${Date.now()}.png`);
  await api("POST", `/api/v1/journal/${entryId}/attachments`, undefined, { form });
}

export async function loadJournal() {
  const id = accountId();
  if (!id) return;
  const [entries, stats] = await Promise.all([
    api("GET", `/api/v1/journal?accountId=${id}`),
    api("GET", `/api/v1/journal/stats?accountId=${id}`),
  ]);
  if (id !== accountId()) return;
  drawStats(stats);
  for (const url of imageUrls.splice(0)) URL.revokeObjectURL(url);
  $("journal-entries").replaceChildren(
    ...(entries.list.length ? entries.list.map(entryItem) : [h("li", { class: "hint" }, "No entry yet")]),
  );
}

function entryItem(entry) {
  const images = h("div", {});
  for (const attachment of entry.attachments) {
    // The image needs the bearer token: fetched, then shown from a blob URL.
    api("GET", attachment.url, undefined, { raw: true })
      .then((response) => response.blob())
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        imageUrls.push(url);
        images.append(h("img", { src: url, alt: `Chart screenshot of “${entry.title}”` }));
      })
      .catch((error) => say("journal-message", String(error), "error"));
  }
  return h("li", {},
    h("strong", {}, entry.title), " ", h("small", { class: "hint" }, utc(entry.createdTime)), h("br"),
    entry.tags.map((tag) => h("span", { class: "tag" }, tag)),
    entry.notes ? h("p", {}, entry.notes) : null,
    images,
    h("div", { class: "row" },
      h("button", { type: "button", class: "small secondary", "aria-label": `Add chart screenshot to “${entry.title}”`,
        onclick: () => attachScreenshot(entry.entryId).then(loadJournal).catch((e) => say("journal-message", refusal(e.code, e.message), "error")) },
      "Add chart screenshot"),
      h("button", { type: "button", class: "small secondary", "aria-label": `Delete “${entry.title}”`,
        onclick: () => api("DELETE", `/api/v1/journal/${entry.entryId}`).then(loadJournal) }, "Delete")));
}

function drawStats(s) {
  const pct = (fraction) => (fraction ? `${(Number(fraction) * 100).toFixed(1)} %` : "-");
  const figures = [["Trades", s.trades], ["Wins / losses", `${s.wins} / ${s.losses}`], ["Win rate", pct(s.winRate)],
    ["Average R", s.avgRMultiple || "-"], ["Total PnL", `${s.totalPnl} USDT`], ["Max drawdown", pct(s.maxDrawdown)],
    ["Sharpe", s.sharpe || "-"]];
  $("stats").replaceChildren(...figures.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))]));
  if (!drawEquity) drawEquity = lineChart($("equity"));
  drawEquity(s.equityCurve);
}
