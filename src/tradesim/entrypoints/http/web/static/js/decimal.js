// Exact decimal strings as scaled BigInts: a price or quantity is snapped and compared without
// ever passing through a float (the api takes and gives decimal strings).

const DECIMAL = /^\d+(\.\d+)?$/;

export function isDecimal(text) {
  return DECIMAL.test(text);
}

export function places(text) {
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}

function scaled(text, digits) {
  const [whole, fraction = ""] = text.split(".");
  return BigInt(whole + fraction.padEnd(digits, "0").slice(0, digits));
}

function format(value, digits) {
  const text = value.toString().padStart(digits + 1, "0");
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** `text` on the grid of `step`: "down" for quantities (never more than asked), "nearest" for prices. */
export function snap(text, step, mode = "nearest") {
  const digits = Math.max(places(text), places(step));
  const value = scaled(text, digits);
  const unit = scaled(step, digits);
  let count = value / unit;
  if (mode === "nearest" && (value % unit) * 2n >= unit) count += 1n;
  const result = count * unit;
  return format(result / 10n ** BigInt(digits - places(step)), places(step));
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function compare(a, b) {
  const digits = Math.max(places(a), places(b));
  const x = scaled(a, digits);
  const y = scaled(b, digits);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(text) {
  return !text || /^0*(\.0*)?$/.test(text);
}

/** Signed decimal strings, exactly: "-1.50" -> {units: -150n, digits: 2}. */
function signed(text) {
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const units = BigInt(whole + fraction);
  return { units: negative ? -units : units, digits: fraction.length };
}

function written(units, digits) {
  const negative = units < 0n;
  let text = (negative ? -units : units).toString().padStart(digits + 1, "0");
  if (digits) text = `${text.slice(0, -digits)}.${text.slice(-digits)}`.replace(/\.?0+$/, "");
  return negative && text !== "0" ? `-${text}` : text;
}

/** a - b, exactly. */
export function minus(a, b) {
  const x = signed(a);
  const y = signed(b);
  const digits = Math.max(x.digits, y.digits);
  return written(x.units * 10n ** BigInt(digits - x.digits) - y.units * 10n ** BigInt(digits - y.digits), digits);
}

/** a x b, exactly. */
export function times(a, b) {
  const x = signed(a);
  const y = signed(b);
  return written(x.units * y.units, x.digits + y.digits);
}

/** a + b, exactly. */
export function plus(a, b) {
  return minus(a, b.startsWith("-") ? b.slice(1) : `-${b}`);
}
