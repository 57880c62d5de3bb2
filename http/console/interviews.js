// Interviews: today's and the coming week's by status, and the recent no-shows.
"use strict";

admin.register("interviews", (main) => {
  const { t, num, time, el, table, section, load, shown, paged, api } = admin;
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
  const path = "/api/admin/interviews?from=" + encodeURIComponent(midnight.toISOString()) +
    "&until=" + encodeURIComponent(week.toISOString());
  const got = api("GET", path);
  got.then((s) => counts.replaceChildren(t("interviews.week"), " ",
    ...s.by_status.map((c) => el("span", { className: "chip status-" + c.status }, t("status." + c.status) + ": " + num(c.count)))), () => {});
  // page reads a page of one of the two lists, each with its own cursor.
  const page = (cursor, after) => (after ? api("GET", path + "&" + cursor + "=" + encodeURIComponent(after)) : got);

  // Today's and the upcoming ones are one list, soonest first: its "more" sits under
  // the upcoming ones and fills both.
  load(today.box, async () => list((await got).interviews.filter((i) => new Date(i.scheduled_at) < tomorrow)));
  paged(upcoming.box, async (after) => {
    const s = await page("after", after);
    return { rows: s.interviews, next: s.next, total: s.total };
  }, (rows, last) => {
    if (rows.length > last.rows.length) today.box.replaceChildren(list(rows.filter((i) => new Date(i.scheduled_at) < tomorrow)));
    return [list(rows.filter((i) => new Date(i.scheduled_at) >= tomorrow)), shown(rows.length, last.total)];
  });
  paged(noShows.box, async (after) => {
    const s = await page("no_shows_after", after);
    return { rows: s.no_shows, next: s.no_shows_next };
  }, (rows) => {
    if (rows.length === 0) return el("p", { className: "muted" }, t("interviews.none"));
    return table([
      ["col.scheduled_at", (i) => time(i.scheduled_at)],
      ["col.absent", (i) => who(i.absent_user_id === i.candidate.id ? i.candidate : i.interviewer)],
      ["col.reported_by", (i) => who(i.absent_user_id === i.candidate.id ? i.interviewer : i.candidate)],
      ["col.profession", (i) => i.profession + " · " + i.language],
    ], rows, (i) => ({ "data-interview": i.id }));
  });
});
