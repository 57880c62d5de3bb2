// Renders the engine's OpenAPI document: operations grouped by tag, with their
// parameters, bodies, answers and examples, then every schema. No dependencies.
"use strict";

const el = (tag, attrs, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat(Infinity)) if (c != null) e.append(c.nodeType ? c : String(c));
  return e;
};

const refName = (ref) => ref.split("/").pop();

// type renders a schema in one line: a link for a reference, the enum's values, the
// bounds of a number or a text.
function type(schema) {
  if (!schema) return "";
  if (schema.$ref) return el("a", { href: "#schema-" + refName(schema.$ref) }, refName(schema.$ref));
  if (schema.oneOf) return el("span", {}, schema.oneOf.map((s, i) => [i ? " | " : "", type(s)]), schema.nullable ? " | null" : "");
  let out = [schema.type || "any"];
  if (schema.type === "array") out = ["array of ", type(schema.items)];
  if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object")
    out = ["object of ", type(schema.additionalProperties)];
  if (schema.format) out.push(" (" + schema.format + ")");
  const bounds = ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "maxProperties", "pattern", "default"]
    .filter((k) => schema[k] !== undefined).map((k) => k + " " + schema[k]);
  if (bounds.length) out.push(el("span", { class: "muted" }, " — " + bounds.join(", ")));
  if (schema.enum) out.push(el("span", { class: "enum" }, " one of " + schema.enum.join(", ")));
  if (schema.nullable) out.push(" | null");
  return el("span", {}, out);
}

function properties(schema) {
  const required = new Set(schema.required || []);
  return el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "")),
    Object.entries(schema.properties || {}).map(([name, p]) =>
      el("tr", {}, el("td", {}, el("code", {}, name)), el("td", {}, type(p)),
        el("td", { class: "muted" }, required.has(name) ? "required" : "", p.description ? " " + p.description : ""))));
}

function operation(method, path, op) {
  const body = el("div", {});
  if (op.description) body.append(el("p", {}, op.description));
  body.append(el("p", { class: "muted" }, "operationId ", el("code", {}, op.operationId),
    " · ", op.security && op.security.length ? "needs a session (Bearer token or sm_sess cookie)" : "public",
    op["x-access"] === "admin" ? ", admins only" : ""));
  if (op.parameters) {
    body.append(el("h4", {}, "Parameters"), el("table", {},
      el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "")),
      op.parameters.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
        el("td", {}, type(p.schema)), el("td", { class: "muted" }, p.description || "")))));
  }
  if (op.requestBody) {
    const [media, content] = Object.entries(op.requestBody.content)[0];
    body.append(el("h4", {}, "Body ", el("span", { class: "muted" }, media, op.requestBody.required ? "" : ", optional")),
      el("p", {}, type(content.schema)));
    if (content.example) body.append(el("pre", {}, JSON.stringify(content.example, null, 2)));
  }
  body.append(el("h4", {}, "Answers"), el("table", {}, Object.entries(op.responses).sort().map(([status, r]) => {
    const content = r.content ? Object.entries(r.content)[0] : null;
    return el("tr", {}, el("td", {}, el("b", {}, status)),
      el("td", {}, content ? [content[0], " ", type(content[1].schema)] : ""),
      el("td", { class: "muted" }, r.description || ""));
  })));
  return el("details", { class: "op", id: "op-" + op.operationId },
    el("summary", {}, el("span", { class: "method " + method }, method.toUpperCase()), " ",
      el("span", { class: "path" }, path), " ", op.summary, " ", el("span", { class: "id" }, op.operationId)),
    body);
}

function render(doc) {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("description").textContent = doc.info.description || "";
  const groups = new Map((doc.tags || []).map((t) => [t.name, { description: t.description, ops: [] }]));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags || ["other"])[0];
      if (!groups.has(tag)) groups.set(tag, { ops: [] });
      groups.get(tag).ops.push(operation(method, path, op));
    }
  }
  const main = document.getElementById("operations");
  const toc = document.getElementById("toc");
  main.replaceChildren();
  for (const [tag, g] of groups) {
    if (!g.ops.length) continue;
    toc.append(el("a", { href: "#tag-" + tag }, tag));
    main.append(el("h2", { id: "tag-" + tag }, tag));
    if (g.description) main.append(el("p", {}, g.description));
    main.append(...g.ops);
  }
  toc.append(el("a", { href: "#schemas" }, "schemas"));
  const schemas = document.getElementById("schemas");
  schemas.append(el("h2", {}, "Schemas"));
  for (const [name, schema] of Object.entries(doc.components.schemas).sort()) {
    schemas.append(el("h3", { id: "schema-" + name }, name),
      schema.properties ? properties(schema) : el("p", {}, type(schema)));
  }
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

fetch("/api/openapi.json")
  .then((r) => { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
  .then(render)
  .catch((e) => { document.getElementById("operations").textContent = "The document could not be read: " + e.message; });
