/**
 * The auditor's page: one HTML document, no build step and no third-party code. It asks the service's own API
 * with the auditor's token, which it takes from the address's fragment (`/#token=…`, never sent to a server) or
 * from the form; every question it asks is recorded like any other.
 */
export function auditorPage(): string {
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Grondslag — audit</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
  h1 { font-size: 1.4rem; margin: 0 0 .5rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin: .5rem 0; }
  label { display: flex; flex-direction: column; font-size: 12px; color: #444; }
  input, select, button { font: inherit; padding: .25rem .4rem; }
  table { border-collapse: collapse; margin-top: .5rem; } td, th { border: 1px solid #ccc; padding: .2rem .4rem; text-align: left; }
  #chain.ok { color: #0a6b2b; } #chain.bad { color: #a00; font-weight: bold; }
  svg text { font-size: 11px; } .node rect { fill: #eef3fb; stroke: #2d5aa0; } .topic rect { fill: #fff6e0; stroke: #b07a00; }
  .edge { stroke: #777; fill: none; } .edge.reject { stroke: #c33; stroke-dasharray: 4 3; }
  .err { color: #a00; }
</style>
</head>
<body>
<h1>Grondslag — welke gegevens gingen naar wie, onder welke grondslag</h1>
<p id="chain" data-testid="chain">Keten: nog niet gecontroleerd</p>
<form id="auth"><label>Token (auditor)<input id="token" size="40" autocomplete="off"></label>
<label>Doelbinding van deze vragen<input id="purpose" value="avg-toezicht"></label></form>

<h2>Stromen</h2>
<form id="filters">
  <label>Van<input type="date" id="from"></label><label>Tot<input type="date" id="to"></label>
  <label>Partij<select id="party"><option value="">alle</option></select></label>
  <label>Grondslag<select id="grondslag"><option value="">alle</option></select></label>
  <button type="submit">Toon</button>
</form>
<svg id="flows" data-testid="flows" width="1100" height="200" role="img" aria-label="Stromen"></svg>

<h2>Spoor van één gebeurtenis</h2>
<form id="trace-form"><label>Event id<input id="event" size="40"></label><button type="submit">Spoor</button></form>
<div id="trace" data-testid="trace"></div>

<h2>Wie ontving gegevens over deze persoon (AVG art. 15)</h2>
<form id="person-form"><label>BSN<input id="bsn" size="12" autocomplete="off"></label><button type="submit">Zoek</button></form>
<div id="person" data-testid="person"></div>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) { $("token").value = fragment.get("token"); history.replaceState(null, "", location.pathname); }
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
async function api(path, init = {}) {
  const res = await fetch("/v1" + path, { ...init, headers: { ...(init.headers || {}), Authorization: "Bearer " + $("token").value.trim(), Doelbinding: $("purpose").value } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.detail + (body.fix ? " — " + body.fix : ""));
  return body;
}
const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, text) { const e = document.createElementNS(NS, name); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; }
let seenParties = false;
function drawFlows(flows) {
  const svg = $("flows"); svg.replaceChildren();
  const producers = [...new Set(flows.map((f) => f.producer).filter(Boolean))].sort();
  const topics = [...new Set(flows.map((f) => f.topic))].sort();
  const consumers = [...new Set(flows.filter((f) => f.consumer).map((f) => f.consumer))].sort();
  if (!seenParties) {
    seenParties = true;
    for (const p of [...new Set([...producers, ...consumers])].sort()) $("party").append(new Option(p, p));
    for (const g of [...new Set(flows.map((f) => f.grondslag).filter(Boolean))].sort()) $("grondslag").append(new Option(g, g));
  }
  const rowH = 34, h = Math.max(producers.length, topics.length, consumers.length, 1) * rowH + 20;
  svg.setAttribute("height", String(h));
  const col = { p: 20, t: 430, c: 900 }, w = 170;
  const pos = new Map();
  const place = (names, x, kind) => names.forEach((n, i) => {
    const y = 10 + i * rowH; pos.set(kind + ":" + n, { x, y });
    const g = el("g", { class: kind === "t" ? "topic" : "node", "data-node": n });
    g.append(el("rect", { x, y, width: w, height: 24, rx: 4 }), el("text", { x: x + 6, y: y + 16 }, n));
    svg.append(g);
  });
  place(producers, col.p, "p"); place(topics, col.t, "t"); place(consumers, col.c, "c");
  const edges = new Map();
  for (const f of flows) {
    const from = f.action === "DISCLOSE" ? "t:" + f.topic : "p:" + f.producer;
    const to = f.action === "DISCLOSE" ? "c:" + f.consumer : "t:" + f.topic;
    if (!pos.has(from) || !pos.has(to)) continue;
    const key = from + ">" + to + ">" + f.action + ">" + f.grondslag;
    const e = edges.get(key) || { from, to, action: f.action, grondslag: f.grondslag, count: 0 };
    e.count += f.count; edges.set(key, e);
  }
  let k = 0;
  for (const e of edges.values()) {
    const a = pos.get(e.from), b = pos.get(e.to);
    const x1 = a.x + w, y1 = a.y + 12, x2 = b.x, y2 = b.y + 12, mx = (x1 + x2) / 2;
    svg.insertBefore(el("path", { class: "edge" + (e.action === "REJECT" ? " reject" : ""), d: "M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2 }), svg.firstChild);
    const label = (e.action === "REJECT" ? "geweigerd" : (e.grondslag || "—")) + " ×" + e.count;
    svg.append(el("text", { x: mx - 40, y: (y1 + y2) / 2 - 2 - (k++ % 3) * 10, "data-edge": e.from + ">" + e.to }, label));
  }
}
async function loadFlows() {
  const q = new URLSearchParams();
  if ($("from").value) q.set("from", $("from").value + "T00:00:00Z");
  if ($("to").value) q.set("to", $("to").value + "T00:00:00Z");
  if ($("party").value) q.set("party", $("party").value);
  if ($("grondslag").value) q.set("grondslag", $("grondslag").value);
  drawFlows((await api("/flows?" + q)).flows);
}
async function loadChain() {
  const c = await api("/chain");
  const cp = c.lastCheckpoint ? "laatste checkpoint #" + c.lastCheckpoint.id + " (" + c.lastCheckpoint.createdAt + ", " + c.lastCheckpoint.total + " records)" : "nog geen checkpoint";
  $("chain").className = c.verified ? "ok" : "bad";
  $("chain").textContent = (c.verified ? "Keten geverifieerd: " : "KETEN GESCHONDEN: " + c.faults[0].detail + "; ") + c.records + " records, " + cp;
}
function table(rows, cols) {
  return "<table><tr>" + cols.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>" + rows.map((r) => "<tr>" + cols.map((c) => "<td>" + esc(Array.isArray(r[c]) ? r[c].join(", ") : r[c]) + "</td>").join("") + "</tr>").join("") + "</table>";
}
const guard = (target, fn) => fn().catch((e) => { $(target).innerHTML = '<p class="err">' + esc(e.message) + "</p>"; });
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); guard("trace", loadFlows); });
$("trace-form").addEventListener("submit", (ev) => { ev.preventDefault(); guard("trace", async () => { const t = await api("/events/" + encodeURIComponent($("event").value.trim()) + "/trace"); $("trace").innerHTML = table(t.records, ["time", "action", "producer", "recipient", "grondslag", "purpose", "fields", "reasonCode"]); }); });
$("person-form").addEventListener("submit", (ev) => { ev.preventDefault(); guard("person", async () => { const bsn = $("bsn").value.trim(); $("bsn").value = ""; const p = await api("/persons/disclosures", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ bsn }) }); $("person").innerHTML = p.disclosures.length ? table(p.disclosures, ["time", "recipient", "topic", "grondslag", "purpose", "fields"]) : "<p>Geen verstrekkingen.</p>"; }); });
if ($("token").value) { guard("trace", loadChain); guard("trace", loadFlows); }
</script>
</body>
</html>
`;
}
