// What the screen shows, in one place; the modules that draw read it and ask for a redraw.

export const state = {
  instruments: new Map(),
  accounts: [],
  account: null,
  symbol: "BTCUSDT",
  /** The replay session of the chosen account, when it is a replay account. */
  replay: null,
  replays: new Map(),
  orders: new Map(),
  positions: new Map(),
  executions: [],
  wallet: null,
  lastPrice: "",
  /** Orders this page placed: their asynchronous refusal is shown in the ticket. */
  placed: new Set(),
};

export const OPEN = new Set(["New", "PartiallyFilled", "Untriggered"]);

export function instrument(symbol = state.symbol) {
  return state.instruments.get(symbol);
}

export function accountId() {
  return state.account ? state.account.accountId : "";
}
