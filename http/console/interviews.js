// Interviews: today's and the coming week's by status, and the recent no-shows.
"use strict";

admin.register("interviews", (main) => {
  const { t, num, time, el, table, section, load, more, api } = admin;
  const today = section("interviews.today");
  const upcoming = section("interviews.upcoming");
  const noShows = section("interviews.no_shows");
  const counts = el("p", { id: "interview-counts", className: "chips" });
  main.append(el("h1", {}, t("nav.interviews")), counts, today.node, upcoming.node, noShows.node);

  const who = (p) => p.username || p.first_name || p.id;
  const columns = [
    ["col.scheduled_at", (i) => time(i.scheduled_at)],
    ["col.candidate", (i) => who(i.candidate)],
    ["col.interviewer", (i) => who(i.interviewer)],
    ["col.profession", (i) => i.profession + " · " + i.language],
    ["col.status", (i) => el("span", { className: "status-" + i.status }, t("status." + i.status))],
  ];
  const list = (rows) => (rows.length ? table(columns, rows, (i) => ({ "data-interview": i.id })) : el("p", { className: "muted" }, t("interviews.none")));

  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const tomorrow = new Date(midnight.getTime() + 86400000);
  const week = new Date(midnight.getTime() + 7 * 86400000);
  const got = api("GET", "/api/admin/interviews?from=" + encodeURIComponent(midnight.toISOString()) +
    "&until=" + encodeURIComponent(week.toISOString()));
  got.then((s) => counts.replaceChildren(t("interviews.week"), " ",
    ...s.by_status.map((c) => el("span", { className: "chip status-" + c.status }, t("status." + c.status) + ": " + num(c.count)))), () => {});
  load(today.box, async () => list((await got).interviews.filter((i) => new Date(i.scheduled_at) < tomorrow)));
  load(upcoming.box, async () => {
    const s = await got;
    return [list(s.interviews.filter((i) => new Date(i.scheduled_at) >= tomorrow)), more(s.interviews.length, s.total)];
  });
  load(noShows.box, async () => {
    const s = await got;
    if (s.no_shows.length === 0) return el("p", { className: "muted" }, t("interviews.none"));
    return table([
      ["col.scheduled_at", (i) => time(i.scheduled_at)],
      ["col.absent", (i) => who(i.absent_user_id === i.candidate.id ? i.candidate : i.interviewer)],
      ["col.reported_by", (i) => who(i.absent_user_id === i.candidate.id ? i.interviewer : i.candidate)],
      ["col.profession", (i) => i.profession + " · " + i.language],
    ], s.no_shows);
  });
});
