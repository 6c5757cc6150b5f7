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

  /** One subscribe per topic: a topic the server refuses must not take the others down with it. */
  want(topics) {
    const next = new Set(topics);
    for (const topic of this.topics) if (!next.has(topic)) this.send({ op: "unsubscribe", args: [topic] });
    for (const topic of next) if (!this.topics.has(topic)) this.send({ op: "subscribe", args: [topic] });
    this.topics = next;
  }
}
