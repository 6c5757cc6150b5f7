// The /ws socket: authenticates with the current access token, keeps the wanted topics subscribed
// across reconnects, pings, and hands every push to `onPush`.

import { accessToken, refresh } from "./api.js";

const PING_MS = 20_000;
const NOT_AUTHENTICATED = 4401;

export class Socket {
  constructor(onPush, onStatus) {
    this.onPush = onPush;
    this.onStatus = onStatus;
    this.topics = new Set();
    this.groups = new Map();
    /** Authenticated and open: pushes can arrive (a poller stands in while not). */
    this.live = false;
    this.ws = null;
    this.retry = 500;
    this.stopped = true;
    this.ping = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.live = false;
    clearInterval(this.ping);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.onStatus("connecting");
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ op: "auth", args: [accessToken()] }));
    });
    ws.addEventListener("message", (event) => this.receive(ws, event.data));
    ws.addEventListener("close", (event) => this.closed(ws, event.code));
  }

  receive(ws, text) {
    const message = JSON.parse(text);
    if (message.op === "auth") {
      if (!message.success) return;
      this.retry = 500;
      this.live = true;
      this.onStatus("live");
      for (const topic of this.topics) this.send({ op: "subscribe", args: [topic] });
      clearInterval(this.ping);
      this.ping = setInterval(() => this.send({ op: "ping" }), PING_MS);
      return;
    }
    if (message.op === "subscribe" && !message.success) {
      this.onStatus("live", message.ret_msg);
      return;
    }
    if (message.topic) this.onPush(message);
  }

  async closed(ws, code) {
    if (ws !== this.ws) return;
    this.live = false;
    clearInterval(this.ping);
    this.onStatus("offline");
    if (this.stopped) return;
    if (code === NOT_AUTHENTICATED) await refresh().catch(() => {});
    setTimeout(() => !this.stopped && this.connect(), this.retry);
    this.retry = Math.min(this.retry * 2, 10_000);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** One subscribe per topic: a topic the server refuses must not take the others down with it.
   * `group` names who wants them (the account's topics, a watched backtest): each group's topics are
   * replaced on their own, and a topic stays subscribed while any group wants it. */
  want(topics, group = "account") {
    this.groups.set(group, new Set(topics));
    const next = new Set([...this.groups.values()].flatMap((set) => [...set]));
    for (const topic of this.topics) if (!next.has(topic)) this.send({ op: "unsubscribe", args: [topic] });
    for (const topic of next) if (!this.topics.has(topic)) this.send({ op: "subscribe", args: [topic] });
    this.topics = next;
  }
}
