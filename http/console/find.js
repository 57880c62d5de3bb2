// Find: a user by Telegram id or username with their profile and streams; any stream
// by id; the events of some types in a period. Every event opens to its payload.
"use strict";

admin.register("find", (main) => {
  const { t, num, time, fromLocal, el, table, load, paged, api, ndjson } = admin;
  const eventsCap = 200;
  const result = el("div", { id: "find-result" });

  const show = (work) => load(result, work);

  const payload = (ev) => el("details", { className: "payload" }, el("summary", {}, t("find.payload")),
    el("pre", {}, JSON.stringify(ev.payload, null, 2)));

  const events = (list) => table([
    ["col.position", (ev) => ev.stream_version + " · " + ev.position, "num"],
    ["col.type", (ev) => ev.event_type],
    ["col.stream", (ev) => el("button", { type: "button", className: "link", onclick: () => openStream(ev.stream_id) }, ev.stream_id)],
    ["col.occurred_at", (ev) => time(ev.occurred_at)],
    ["col.actor", (ev) => ev.actor],
    ["col.payload", payload],
  ], list, (ev) => ({ "data-event": ev.event_id }));

  function openStream(id) {
    show(async () => {
      const s = await api("GET", "/api/admin/streams/" + encodeURIComponent(id));
      return [el("h2", {}, t("find.stream_title", { id: s.stream_id, n: num(s.version) })), events(s.events)];
    });
  }

  function profile(u) {
    const p = u.profile;
    const row = (key, value) => [el("dt", {}, t(key)), el("dd", {}, value === "" || value === null ? "—" : String(value))];
    return el("article", { className: "profile", "data-user": p.id },
      el("h2", {}, (p.username ? "@" + p.username : p.first_name) + " · " + p.telegram_id),
      el("dl", {},
        row("profile.id", p.id), row("profile.name", [p.first_name, p.last_name].filter(Boolean).join(" ")),
        row("profile.role", p.role + " · " + t("role." + p.preferred_role)), row("profile.timezone", p.timezone),
        row("profile.no_shows", p.no_show_count), row("profile.registered_at", time(p.registered_at)),
        row("profile.professions", p.professions.join(", ")),
        row("profile.form", p.form ? [p.form.profession, p.form.language, p.form.experience, p.form.country].join(" · ") : "")),
      el("h3", {}, t("find.streams")),
      el("ul", { className: "streams" }, u.streams.map((s) =>
        el("li", {}, el("button", { type: "button", className: "link", "data-stream": s, onclick: () => openStream(s) }, s)))));
  }

  const userInput = el("input", { id: "find-user", placeholder: "123456 / @username", required: true, autocomplete: "off" });
  const userForm = el("form", { id: "find-user-form", onsubmit: (ev) => {
    ev.preventDefault();
    const v = userInput.value.trim();
    const q = /^\d+$/.test(v) ? "telegram_id=" + v : "username=" + encodeURIComponent(v);
    paged(result, async (after) => {
      const found = await api("GET", "/api/admin/users?" + q + (after ? "&after=" + encodeURIComponent(after) : ""));
      return { rows: found.users, next: found.next };
    }, (users) => (users.length ? users.map(profile) : el("p", { className: "muted" }, t("find.nobody"))));
  } }, el("label", {}, t("find.user"), userInput), el("button", { type: "submit" }, t("find.search")));

  const streamInput = el("input", { id: "find-stream", placeholder: "user-… / interview-…", required: true, autocomplete: "off" });
  const streamForm = el("form", { id: "find-stream-form", onsubmit: (ev) => { ev.preventDefault(); openStream(streamInput.value.trim()); } },
    el("label", {}, t("find.stream"), streamInput), el("button", { type: "submit" }, t("find.open")));

  const typeInput = el("input", { id: "find-type", placeholder: "QueueJoined, MatchMade", autocomplete: "off" });
  const since = el("input", { id: "find-since", type: "datetime-local" });
  const until = el("input", { id: "find-until", type: "datetime-local" });
  const eventsForm = el("form", { id: "find-events-form", onsubmit: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (typeInput.value.trim()) q.set("type", typeInput.value.replace(/\s+/g, ""));
    if (since.value) q.set("since", fromLocal(since.value));
    if (until.value) q.set("until", fromLocal(until.value));
    show(async () => {
      const got = await ndjson("/api/admin/events?" + q, eventsCap);
      if (got.lines.length === 0) return el("p", { className: "muted" }, t("find.no_events"));
      return [events(got.lines), got.more ? el("p", { className: "muted" }, t("find.first", { n: num(eventsCap) })) : null];
    });
  } }, el("label", {}, t("find.types"), typeInput), el("label", {}, t("replay.since"), since), el("label", {}, t("replay.until"), until),
  el("button", { type: "submit" }, t("find.search")));

  main.append(el("h1", {}, t("nav.find")),
    el("div", { className: "forms" }, userForm, streamForm, eventsForm), result);
});
