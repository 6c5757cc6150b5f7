// The engine's refusal codes in words. The api's 4xx bodies already carry a message; an order the
// engine rejects later arrives on the socket with its code only (`rejectReason`).

const WORDS = {
  INSUFFICIENT_MARGIN: "not enough available balance for the margin this order needs",
  INSUFFICIENT_BALANCE: "not enough balance",
  NO_MARKET_PRICE: "no market price has arrived for this symbol yet",
  STALE_PRICE: "the last market price is too old to trade on",
  QTY_OFF_STEP: "the quantity is not a multiple of the quantity step",
  QTY_BELOW_MINIMUM: "the quantity is below the minimum order quantity",
  QTY_ABOVE_MAXIMUM: "the quantity is above the maximum order quantity",
  PRICE_OFF_TICK: "the price is not a multiple of the tick size",
  PRICE_OUT_OF_RANGE: "the price is outside the instrument's allowed range",
  NOTIONAL_BELOW_MINIMUM: "the order value is below the minimum order value",
  POST_ONLY_WOULD_TAKE: "a post-only order would have filled at once as a taker",
  FOK_UNFILLABLE: "a fill-or-kill order could not fill completely at once",
  REDUCE_ONLY_WOULD_GROW: "a reduce-only order would grow the position",
  INVALID_TP_SL: "the take-profit or stop-loss is on the wrong side of the price",
  INVALID_TRIGGER: "the trigger price is on the wrong side of the market for its direction",
  LEVERAGE_OUT_OF_RANGE: "the leverage is outside the instrument's range",
  ORDER_NOT_OPEN: "the order is no longer open (it filled or was cancelled first)",
  POSITION_OPEN: "not while a position is open",
  NOT_REPLAY_SYMBOL: "this replay account trades only its replay's symbol",
  UNKNOWN_SYMBOL: "unknown symbol",
  NO_HISTORY: "no stored history from that date",
  REPLAY_STATE_CONFLICT: "the replay cannot do that in its current state",
};

export function refusal(code, message) {
  const words = message || WORDS[code] || code.toLowerCase().replaceAll("_", " ");
  return code ? `Refused: ${words} (${code})` : `Refused: ${words}`;
}
