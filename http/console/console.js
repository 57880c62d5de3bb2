// The console's core: labels, a small DOM builder, calls to the admin API, the login
// and the menu. Each page is a script of its own that registers itself here.
"use strict";

const admin = (() => {
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const lang = document.documentElement.lang || "en";
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const times = new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "medium" });

  // t is the label of key, with {name} replaced by vars.name.
  function t(key, vars) {
    let s = labels[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll("{" + k + "}", v);
    return s;
  }

  const num = (n) => numbers.format(n ?? 0);
  const time = (iso) => (iso ? times.format(new Date(iso)) : t("never"));

  // ago is how long since iso, in days, hours and minutes.
  function ago(iso) {
    let m = Math.max(0, Math.round((Date.now() - new Date(iso)) / 60000));
    const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
    m %= 60;
    return [d && t("unit.days", { n: d }), h && t("unit.hours", { n: h }), (m || (!d && !h)) && t("unit.minutes", { n: m })]
      .filter(Boolean).join(" ");
  }

  // fromLocal turns a datetime-local input's value into RFC 3339 (UTC); "" stays "".
  const fromLocal = (v) => (v ? new Date(v).toISOString() : "");

  // el builds an element: attrs are properties (on… are listeners, data-… and aria-…
  // attributes); children are nodes or text, never HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k.startsWith("data-") || k.startsWith("aria-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children.flat()) {
      if (c !== undefined && c !== null && c !== false) node.append(c);
    }
    return node;
  }

  // table builds a table of rows; columns are [label key, cell(row) → node or text,
  // class].
  function table(columns, rows, rowAttrs) {
    return el("table", {},
      el("thead", {}, el("tr", {}, columns.map(([key]) => el("th", {}, t(key))))),
      el("tbody", {}, rows.map((r) => el("tr", rowAttrs ? rowAttrs(r) : {},
        columns.map(([key, cell, cls]) => el("td", { "data-label": t(key), className: cls || "" }, cell(r)))))));
  }

  class APIError extends Error {
    constructor(status, body) {
      super(body?.error?.message || t("error.generic") + " (" + status + ")");
      this.status = status;
      this.code = body?.error?.code;
    }
  }

  // api calls the admin API with the session cookie; state changes are sent as JSON,
  // which the engine requires of a cookie session.
  async function api(method, path, body) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      if (body !== undefined) init.body = JSON.stringify(body);
    }
    const resp = await fetch(path, init);
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!resp.ok) throw new APIError(resp.status, data);
    return data;
  }

  // section is a heading and a box that load fills with what fetch gives, or the error.
  function section(titleKey, ...extra) {
    const box = el("div", { className: "box" });
    const node = el("section", {}, el("h2", {}, t(titleKey)), ...extra, box);
    return { node, box };
  }

  // load fills box with what fetchAndRender gives, or the error; a later load of the
  // same box wins over an earlier one that answers late.
  async function load(box, fetchAndRender) {
    const run = (box.filling = {});
    box.replaceChildren(el("p", { className: "muted" }, t("loading")));
    let nodes;
    try {
      nodes = [await fetchAndRender()].flat().filter((n) => n !== null && n !== undefined && n !== false);
    } catch (err) {
      nodes = [el("p", { className: "error" }, err.message)];
    }
    if (box.filling === run) box.replaceChildren(...nodes);
  }

  // shown says how many of total a list shows so far.
  const shown = (n, total) => (total > n ? el("p", { className: "muted" }, t("list.cut", { shown: num(n), total: num(total) })) : null);

  // paged fills box with a list read a page at a time: fetchPage(after) answers
  // {rows, next, …} ("" asks for the first page), render(rows, last) builds every row
  // read so far (last: fetchPage's latest answer), and a "more" button under it reads
  // the next page, unless box has been filled anew meanwhile.
  function paged(box, fetchPage, render) {
    let rows = [];
    async function page(after) {
      const got = await fetchPage(after);
      rows = rows.concat(got.rows);
      const button = got.next && el("button", { type: "button", className: "more", onclick: () => {
        button.disabled = true;
        page(got.next).then((nodes) => {
          if (box.filling === run) box.replaceChildren(...nodes);
        }, (err) => {
          button.disabled = false;
          box.append(el("p", { className: "error" }, err.message));
        });
      } }, t("list.more"));
      return [render(rows, got), button].flat().filter(Boolean);
    }
    load(box, () => page(""));
    const run = box.filling; // load marks the box at once, before any page comes
  }

  // ndjson reads the first cap lines of an NDJSON answer, then lets the rest go; more
  // says whether there were more.
  async function ndjson(path, cap) {
    const stop = new AbortController();
    const resp = await fetch(path, { credentials: "same-origin", signal: stop.signal });
    if (!resp.ok) {
      let body = null;
      try { body = await resp.json(); } catch { body = null; }
      throw new APIError(resp.status, body);
    }
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    const lines = [];
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { lines, more: false };
      rest += value;
      let end;
      while ((end = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, end);
        rest = rest.slice(end + 1);
        if (!line) continue;
        const v = JSON.parse(line);
        if (v.error) throw new APIError(200, v);
        if (lines.length === cap) {
          stop.abort();
          return { lines, more: true };
        }
        lines.push(v);
      }
    }
  }

  const pages = {};
  let leave = null;

  function register(name, page) { pages[name] = page; }

  // show renders the page the location's hash names (the first one by default).
  function show() {
    const nav = [...document.querySelectorAll("#nav a")];
    const name = location.hash.slice(1) || nav[0]?.dataset.page;
    const page = pages[name];
    if (!page) return;
    if (leave) leave();
    for (const a of nav) a.classList.toggle("current", a.dataset.page === name);
    const main = document.getElementById("main");
    main.replaceChildren();
    leave = page(main) || null;
  }

  async function logout() {
    try { await api("POST", "/api/auth/logout"); } finally { location.reload(); }
  }

  function loginError(err) {
    const p = document.getElementById("login-error");
    p.textContent = err.message;
    p.hidden = false;
  }

  // The Login Widget sends the browser back with its signed fields in the query.
  async function widgetReturn() {
    const q = new URLSearchParams(location.search);
    if (!q.has("hash") || !q.has("id")) return;
    const fields = {};
    for (const [k, v] of q) fields[k] = ["id", "auth_date"].includes(k) ? Number(v) : v;
    history.replaceState(null, "", location.pathname);
    try {
      await api("POST", "/api/auth/telegram", fields);
      location.reload();
    } catch (err) { loginError(err); }
  }

  function start() {
    const state = document.body.dataset.state;
    document.getElementById("logout")?.addEventListener("click", logout);
    if (state === "login") {
      widgetReturn();
      document.getElementById("dev-login")?.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const f = new FormData(ev.target);
        try {
          await api("POST", "/api/auth/dev", { telegram_id: Number(f.get("telegram_id")), username: f.get("username") || "" });
          location.reload();
        } catch (err) { loginError(err); }
      });
    }
    if (state === "console") {
      window.addEventListener("hashchange", show);
      show();
    }
  }

  document.addEventListener("DOMContentLoaded", start);
  return { t, num, time, ago, fromLocal, el, table, section, load, shown, paged, api, ndjson, register };
})();
