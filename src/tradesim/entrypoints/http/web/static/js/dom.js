// Small DOM helpers: elements built with text (never HTML strings), messages, times.

export const $ = (id) => document.getElementById(id);

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function say(id, text, kind = "") {
  const element = $(id);
  element.textContent = text;
  element.className = `message ${kind}`.trim();
}

/** Epoch ms as "2024-03-04 10:00:00 UTC" (replay times and fills are UTC, as the api keeps them). */
export function utc(ms) {
  return ms ? `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC` : "";
}

/** Rows for a tbody, or one row saying there is nothing. */
export function fill(tbody, rows, columns, empty) {
  tbody.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: columns, class: "hint" }, empty))]));
}
