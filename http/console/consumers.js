// Consumers: every consumer of the log with its lag and last error, and the
// projections with their rebuilds, as the status stream pushes them.
"use strict";

admin.register("consumers", (main) => {
  const { t, num, time, el, table, api } = admin;
  const live = el("span", { className: "live", id: "live" });
  const notice = el("p", { className: "banner", id: "notice", hidden: true });
  const consumersBox = el("div", { id: "consumers" });
  const projectionsBox = el("div", { id: "projections" });
  const rebuildAll = el("button", { type: "button", id: "rebuild-all", onclick: () => rebuild("all") }, t("rebuild.all"));
  main.append(el("h1", {}, t("consumers.title"), " ", live), notice, consumersBox,
    el("h2", {}, t("projections.title")), el("div", { className: "toolbar" }, rebuildAll), projectionsBox);

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  async function rebuild(name) {
    say("");
    try {
      await api("POST", "/api/admin/projections/" + encodeURIComponent(name) + "/rebuild");
      say(t("rebuild.started"));
    } catch (err) { say(err.message); }
  }

  function state(c) {
    const s = c.stuck ? "stalled" : c.running ? "running" : "stopped";
    return el("span", { className: "state-" + s, "data-state": s }, t("state." + s));
  }

  function lastError(c) {
    if (!c.last_error) return "";
    return [c.last_error, " ", el("span", { className: "muted" }, time(c.last_error_at))];
  }

  function progress(p, busy) {
    const r = p.rebuild;
    const button = el("button", { type: "button", className: "small", disabled: busy, onclick: () => rebuild(p.name) }, t("rebuild"));
    if (!r) return button;
    const vars = { done: num(r.done), total: num(r.total), rate: num(r.events_per_second), eta: num(r.eta_seconds) };
    return el("div", { className: "rebuild", "data-running": String(r.running) },
      el("progress", { max: Math.max(r.total, 1), value: r.done }), " ",
      el("span", { className: "muted" }, t(r.running ? "rebuild.progress" : "rebuild.leftover", vars)),
      r.running ? null : [" ", button]);
  }

  function last(r) {
    if (!r) return el("span", { className: "muted" }, t("never"));
    const failed = Boolean(r.error);
    return el("div", { className: "result", "data-result": failed ? "failed" : "ok" },
      el("strong", { className: failed ? "error" : "state-running" }, t(failed ? "result.failed" : "result.ok")), " · ",
      t("result.took", { seconds: num(r.duration_seconds), events: num(r.events), at: time(r.finished_at) }),
      failed ? el("div", { className: "err" }, r.error) : null);
  }

  function render(status) {
    consumersBox.replaceChildren(status.consumers.length === 0
      ? el("p", { className: "muted" }, t("consumers.none"))
      : table([
        ["col.name", (c) => c.name],
        ["col.state", state],
        ["col.position", (c) => c.position || "—", "num"],
        ["col.lag_events", (c) => num(c.lag_events), "num lag-events"],
        ["col.lag_seconds", (c) => num(c.lag_seconds), "num lag-seconds"],
        ["col.error", lastError, "err"],
      ], status.consumers, (c) => ({ "data-consumer": c.name })));
    const busy = status.projections.some((p) => p.rebuild?.running);
    rebuildAll.disabled = busy;
    projectionsBox.replaceChildren(table([
      ["col.name", (p) => p.name],
      ["col.lag_events", (p) => num(p.lag_events), "num"],
      ["col.rebuild", (p) => progress(p, busy)],
      ["col.last_rebuild", (p) => last(p.last_rebuild)],
    ], status.projections, (p) => ({ "data-projection": p.name })));
  }

  const source = new EventSource("/api/admin/projections/stream");
  source.addEventListener("status", (ev) => {
    live.textContent = t("stream.live");
    live.className = "live";
    render(JSON.parse(ev.data));
  });
  source.addEventListener("unavailable", (ev) => say(JSON.parse(ev.data).error.message));
  source.addEventListener("error", () => {
    live.className = "live lost";
    live.textContent = t(source.readyState === EventSource.CLOSED ? "stream.closed" : "stream.lost");
  });
  return () => source.close();
});
