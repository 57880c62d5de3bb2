// Queue: the waiting entries by profession, language and role, the entries about to
// expire, and the matches of each hour of the last days as a bar chart.
"use strict";

admin.register("queue", (main) => {
  const { t, num, time, ago, el, table, section, load, shown, paged, api } = admin;
  const days = el("select", { id: "queue-days", onchange: () => refresh() },
    [1, 3, 7, 14, 31].map((d) => el("option", { value: d, selected: d === 7 }, t("unit.days", { n: d }))));
  const waiting = section("queue.waiting");
  const expiring = section("queue.expiring");
  const chart = section("queue.matches", el("label", {}, t("queue.period"), " ", days));
  main.append(el("h1", {}, t("nav.queue")), waiting.node, expiring.node, chart.node);

  function bars(hours) {
    const ns = "http://www.w3.org/2000/svg";
    const svgEl = (tag, attrs, ...kids) => {
      const n = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      n.append(...kids);
      return n;
    };
    const top = Math.max(1, ...hours.map((h) => h.matches));
    const height = 60;
    const svg = svgEl("svg", { viewBox: `0 0 ${hours.length} ${height}`, preserveAspectRatio: "none", class: "chart", role: "img",
      "aria-label": t("queue.matches") });
    hours.forEach((h, i) => {
      const bar = svgEl("rect", { x: i + 0.1, width: 0.8, y: height - (height * h.matches) / top, height: (height * h.matches) / top, class: "bar" },
        svgEl("title", {}, time(h.hour) + ": " + num(h.matches)));
      svg.append(bar);
    });
    const total = hours.reduce((n, h) => n + h.matches, 0);
    return [svg, el("p", { className: "muted chart-legend" },
      el("span", {}, hours.length ? time(hours[0].hour) : ""), " ",
      el("span", { id: "matches-total" }, t("queue.total", { n: num(total), top: num(top) })), " ",
      el("span", {}, hours.length ? time(hours[hours.length - 1].hour) : ""))];
  }

  function refresh() {
    const path = "/api/admin/queue?days=" + days.value;
    const got = api("GET", path);
    load(waiting.box, async () => {
      const q = await got;
      if (q.groups.length === 0) return el("p", { className: "muted" }, t("queue.empty"));
      return table([
        ["col.profession", (g) => g.profession],
        ["col.language", (g) => g.language],
        ["col.role", (g) => t("role." + g.role)],
        ["col.waiting", (g) => num(g.waiting), "num"],
        ["col.oldest_wait", (g) => ago(g.oldest_joined_at)],
      ], q.groups);
    });
    paged(expiring.box, async (after) => {
      const q = await (after ? api("GET", path + "&after=" + encodeURIComponent(after)) : got);
      return { rows: q.expiring, next: q.next, total: q.expiring_total };
    }, (rows, last) => {
      if (rows.length === 0) return el("p", { className: "muted" }, t("queue.none_expiring"));
      return [table([
        ["col.user", (e) => e.username || e.user_id],
        ["col.profession", (e) => e.profession],
        ["col.language", (e) => e.language],
        ["col.role", (e) => t("role." + e.role)],
        ["col.window_end", (e) => time(e.window_end)],
        ["col.expires_at", (e) => time(e.expires_at)],
      ], rows, (e) => ({ "data-entry": e.id })), shown(rows.length, last.total)];
    });
    load(chart.box, async () => bars((await got).matches_per_hour));
  }
  refresh();
});
