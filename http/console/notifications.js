// Notifications: the messages Telegram refused or never answered, with its error,
// counted by kind.
"use strict";

admin.register("notifications", (main) => {
  const { t, num, time, el, table, section, load, shown, paged, api } = admin;
  const statuses = ["failed", "unknown", "pending", "sending", "sent", "inbox", "dropped"];
  const picked = new Set(["failed", "unknown"]);
  const byKind = section("notifications.by_kind");
  const list = section("notifications.deliveries");
  const filters = el("div", { className: "toolbar", id: "delivery-statuses" }, statuses.map((s) =>
    el("label", { className: "inline" }, el("input", { type: "checkbox", value: s, checked: picked.has(s),
      onchange: (ev) => { if (ev.target.checked) picked.add(s); else picked.delete(s); refresh(); } }), " ", t("delivery." + s))));
  main.append(el("h1", {}, t("nav.notifications")), filters, byKind.node, list.node);

  function refresh() {
    const path = "/api/admin/notifications?delivery=" + [...picked].join(",");
    const got = api("GET", path);
    load(byKind.box, async () => {
      const d = await got;
      if (d.by_kind.length === 0) return el("p", { className: "muted" }, t("notifications.none"));
      return table([
        ["col.kind", (c) => c.kind],
        ["col.status", (c) => t("delivery." + c.status)],
        ["col.count", (c) => num(c.count), "num"],
      ], d.by_kind);
    });
    paged(list.box, async (after) => {
      const d = await (after ? api("GET", path + "&after=" + encodeURIComponent(after)) : got);
      return { rows: d.deliveries, next: d.next, total: d.total };
    }, (rows, last) => {
      if (rows.length === 0) return el("p", { className: "muted" }, t("notifications.none"));
      return [table([
        ["col.updated_at", (m) => time(m.updated_at)],
        ["col.user", (m) => m.username || m.user_id],
        ["col.kind", (m) => m.kind],
        ["col.status", (m) => t("delivery." + m.status)],
        ["col.attempts", (m) => num(m.attempts), "num"],
        ["col.telegram_error", (m) => m.last_error, "err"],
      ], rows, (m) => ({ "data-delivery": m.id })), shown(rows.length, last.total)];
    });
  }
  refresh();
});
