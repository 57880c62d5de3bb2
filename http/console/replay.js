// Replay: the log as NDJSON or CSV with the replay's filters, downloaded by the browser
// with the session cookie.
"use strict";

admin.register("replay", (main) => {
  const { t, fromLocal, el } = admin;
  const field = (key, input) => el("label", {}, t(key), input);
  const after = el("input", { id: "replay-after", placeholder: "123-0", autocomplete: "off" });
  const since = el("input", { id: "replay-since", type: "datetime-local" });
  const until = el("input", { id: "replay-until", type: "datetime-local" });
  const types = el("input", { id: "replay-type", placeholder: "QueueJoined, MatchMade", autocomplete: "off" });
  const streams = el("input", { id: "replay-stream", placeholder: "user-…", autocomplete: "off" });
  const format = el("select", { id: "replay-format" }, el("option", { value: "ndjson" }, "NDJSON"), el("option", { value: "csv" }, "CSV"));
  const link = el("a", { id: "replay-download", className: "button" }, t("replay.download"));
  const address = el("code", { id: "replay-url" });

  function update() {
    const q = new URLSearchParams();
    if (after.value.trim()) q.set("after", after.value.trim());
    if (since.value) q.set("since", fromLocal(since.value));
    if (until.value) q.set("until", fromLocal(until.value));
    if (types.value.trim()) q.set("type", types.value.replace(/\s+/g, ""));
    if (streams.value.trim()) q.set("stream", streams.value.replace(/\s+/g, ""));
    if (format.value === "csv") q.set("format", "csv");
    const query = q.toString();
    link.href = "/api/admin/events" + (query ? "?" + query : "");
    link.download = "supermock-events." + format.value;
    address.textContent = location.origin + link.getAttribute("href");
  }

  const form = el("form", { id: "replay-form", oninput: update, onchange: update, onsubmit: (ev) => ev.preventDefault() },
    field("replay.after", after), field("replay.since", since), field("replay.until", until),
    field("replay.types", types), field("replay.streams", streams), field("replay.format", format));
  main.append(el("h1", {}, t("nav.replay")), el("p", { className: "muted" }, t("replay.about")), form,
    el("p", {}, link), el("p", { className: "muted" }, t("replay.url"), " ", address));
  update();
});
