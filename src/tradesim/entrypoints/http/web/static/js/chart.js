// The candle chart: bars and volume, live bars built from ticks, price lines and fill markers.
// Numbers reach the chart as floats only to be drawn; no money is computed here.

import {
  createChart,
  CrosshairMode,
  LineStyle,
} from "../vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";

const MINUTE_S = 60;
/** Bars the chart holds at most; past it, the oldest are dropped down to KEEP_BARS in one go. */
const MAX_BARS = 4_000;
const KEEP_BARS = 2_000;
const UP = "#26a69a";
const DOWN = "#ef5350";

const LINE_NAMES = { order: "Order", entry: "Entry", tp: "Take profit", sl: "Stop loss", liq: "Liquidation" };

const LINE_STYLES = {
  order: { color: "#4c8dff", lineStyle: LineStyle.Dashed },
  entry: { color: "#e0e0e0", lineStyle: LineStyle.Solid },
  tp: { color: UP, lineStyle: LineStyle.Dotted },
  sl: { color: DOWN, lineStyle: LineStyle.Dotted },
  liq: { color: "#ff9800", lineStyle: LineStyle.LargeDashed },
};

export class CandleChart {
  constructor(element) {
    this.element = element;
    this.chart = createChart(element, {
      autoSize: true,
      layout: { background: { color: "#131722" }, textColor: "#d1d4dc", attributionLogo: true },
      grid: { vertLines: { color: "#1f2430" }, horzLines: { color: "#1f2430" } },
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 6 },
    });
    this.candles = this.chart.addCandlestickSeries({
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    this.volume = this.chart.addHistogramSeries({
      priceScaleId: "",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.lines = [];
    this.rows = [];
    this.last = null;
    this.barCount = 0;
    this.symbol = "";
    this.lineWords = [];
    this.fillWords = [];
  }

  /** The chart's accessible name says what it shows now (and lets a test read it as a user would). */
  describe() {
    const close = this.last ? ` last close ${this.last.close}` : " no bars yet";
    this.element.setAttribute("aria-label", `Candle chart of ${this.symbol},${close}`);
  }

  setSymbol(symbol, tickSize) {
    this.symbol = symbol;
    const digits = tickSize.includes(".") ? tickSize.length - tickSize.indexOf(".") - 1 : 0;
    this.candles.applyOptions({ priceFormat: { type: "price", precision: digits, minMove: Number(tickSize) } });
  }

  /** Replace every bar (a symbol, an account or a replay position changed). */
  setBars(bars) {
    this.rows = bars.map(toRow).slice(-KEEP_BARS);
    this.load();
    if (this.rows.length) this.chart.timeScale().scrollToRealTime();
    this.describe();
  }

  load() {
    this.candles.setData(this.rows.map((r) => r.candle));
    this.volume.setData(this.rows.map((r) => r.volume));
    this.last = this.rows.length ? this.rows[this.rows.length - 1].candle : null;
    this.barCount = this.rows.length;
  }

  /** The last bar replaced or a newer one appended; an older one is ignored. The series is kept
   * short: appending to the chart library's series costs more the longer it is, and a replay at
   * 1,000 bars/s appends a thousand a second. */
  put(row) {
    if (this.last && row.candle.time < this.last.time) return;
    if (this.last && row.candle.time === this.last.time) {
      this.rows[this.rows.length - 1] = row;
    } else {
      this.rows.push(row);
      this.barCount += 1;
      if (this.rows.length > MAX_BARS) {
        this.rows = this.rows.slice(-KEEP_BARS);
        this.load();
        return;
      }
    }
    this.candles.update(row.candle);
    this.volume.update(row.volume);
    this.last = row.candle;
  }

  /** A bar in Bybit's kline shape. `quiet`: the caller puts many in one frame and calls describe()
   * once after them. */
  putBar(bar, quiet = false) {
    this.put(toRow(bar));
    if (!quiet) this.describe();
  }

  /** A trade price at `ts` (ms) moves the bar of its minute; the stored bar brings the volume later. */
  putPrice(price, ts) {
    const time = Math.floor(ts / 1000 / MINUTE_S) * MINUTE_S;
    const value = Number(price);
    if (this.last && time < this.last.time) return;
    const same = this.last && this.last.time === time;
    const candle = same
      ? { ...this.last, high: Math.max(this.last.high, value), low: Math.min(this.last.low, value), close: value }
      : { time, open: value, high: value, low: value, close: value };
    const volume = same ? this.rows[this.rows.length - 1].volume : { time, value: 0, color: UP + "80" };
    this.put({ candle, volume });
    this.describe();
  }

  /** [{kind: order|entry|tp|sl|liq, price, title}] drawn as horizontal lines. */
  setLines(lines) {
    for (const line of this.lines) this.candles.removePriceLine(line);
    this.lines = lines.map((l) =>
      this.candles.createPriceLine({ ...LINE_STYLES[l.kind], price: Number(l.price), lineWidth: 1, title: l.title }),
    );
    this.lineWords = lines.map((l) => `${LINE_NAMES[l.kind]} ${l.title} at ${l.price}`);
    this.speak();
  }

  /** The lines and the latest fills in words, for a screen reader (the canvas says nothing). */
  speak() {
    const list = document.getElementById("chart-lines");
    if (!list) return;
    list.replaceChildren(
      ...[...this.lineWords, ...this.fillWords].map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
  }

  /** Executions as markers on the bars of their minute. */
  setFills(executions) {
    const markers = executions
      .map((e) => ({
        time: Math.floor(e.execTime / 1000 / MINUTE_S) * MINUTE_S,
        position: e.side === "Buy" ? "belowBar" : "aboveBar",
        color: e.side === "Buy" ? UP : DOWN,
        shape: e.side === "Buy" ? "arrowUp" : "arrowDown",
        text: `${e.side} ${e.execQty} @ ${e.execPrice}`,
      }))
      .sort((a, b) => a.time - b.time);
    this.candles.setMarkers(markers);
    this.fillWords = executions.slice(0, 20).map((e) => `Fill ${e.side} ${e.execQty} at ${e.execPrice}`);
    this.speak();
  }

  /** A PNG of the chart as it is drawn now. */
  screenshot() {
    const canvas = this.chart.takeScreenshot();
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the chart could not be captured"))), "image/png"),
    );
  }
}

function toRow(bar) {
  const time = Math.floor(bar.start / 1000);
  const open = Number(bar.open);
  const close = Number(bar.close);
  return {
    candle: { time, open, high: Number(bar.high), low: Number(bar.low), close },
    volume: { time, value: Number(bar.volume || 0), color: (close >= open ? UP : DOWN) + "80" },
  };
}

/** A small line chart (the journal's equity curve). */
export function lineChart(element) {
  const chart = createChart(element, {
    autoSize: true,
    layout: { background: { color: "#131722" }, textColor: "#d1d4dc", attributionLogo: false },
    grid: { vertLines: { visible: false }, horzLines: { color: "#1f2430" } },
    timeScale: { timeVisible: true },
  });
  const series = chart.addLineSeries({ color: "#4c8dff", lineWidth: 2 });
  return (points) => {
    const seen = new Map();
    for (const p of points) seen.set(Math.floor(p.ts / 1000), Number(p.equity));
    series.setData([...seen].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value })));
    chart.timeScale().fitContent();
  };
}

/** Up to this many round trips, the markers carry words (side and size in, result out). */
const LABELLED_TRADES = 12;

/** Long (bought first) or short: the api names a round trip's side Buy / Sell (Jesse: long / short). */
export function isLong(side) {
  return /^(buy|long)$/i.test(String(side));
}

/** A backtest's round trips on its price: candles when the api serves bars for the range, otherwise
 * a line joining the trades' own entry and exit prices. Entries are arrows (up for a long), exits are
 * circles coloured by the trade's result. Returns `draw(bars, trades, intervalS)`. */
export function tradesChart(element) {
  const chart = createChart(element, {
    autoSize: true,
    layout: { background: { color: "#131722" }, textColor: "#d1d4dc", attributionLogo: false },
    grid: { vertLines: { color: "#1f2430" }, horzLines: { color: "#1f2430" } },
    crosshair: { mode: CrosshairMode.Normal },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  const candles = chart.addCandlestickSeries({
    upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
  });
  const path = chart.addLineSeries({ color: "#8a92a6", lineWidth: 1, lineStyle: LineStyle.Dotted });
  return (bars, trades, intervalS) => {
    const onBars = bars.length > 0;
    // Words on every marker of a busy run would cover the chart: the table and the list hold them.
    const words = trades.length <= LABELLED_TRADES;
    const at = (ms) => (onBars ? Math.floor(ms / 1000 / intervalS) * intervalS : Math.floor(ms / 1000));
    const markers = trades.flatMap((t) => {
      const long = isLong(t.side);
      const won = Number(t.pnl) >= 0;
      return [
        { time: at(t.openedTime), position: long ? "belowBar" : "aboveBar", color: long ? UP : DOWN,
          shape: long ? "arrowUp" : "arrowDown", text: words ? `${long ? "Long" : "Short"} ${t.qty}` : "" },
        { time: at(t.closedTime), position: long ? "aboveBar" : "belowBar", color: won ? UP : DOWN,
          shape: "circle", text: words ? `${t.pnl}` : "" },
      ];
    }).sort((a, b) => a.time - b.time);
    candles.setData(onBars ? bars.map((b) => toRow(b).candle) : []);
    // One value per second: an exit and the next entry often share a bar's close.
    const points = new Map();
    if (!onBars) {
      for (const t of trades) {
        points.set(at(t.openedTime), Number(t.entryPrice));
        if (t.exitPrice) points.set(at(t.closedTime), Number(t.exitPrice));
      }
    }
    path.setData([...points].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value })));
    (onBars ? candles : path).setMarkers(markers);
    (onBars ? path : candles).setMarkers([]);
    chart.timeScale().fitContent();
  };
}
