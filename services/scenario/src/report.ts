import type { AuditRecord as AuditEntry } from "@grondslag/kit";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The terminal summary: every flow of the run, then totals by action and by legal basis. */
export function summary(records: AuditEntry[]): string {
  const lines: string[] = [];
  const collects = records.filter((r) => r.action === "COLLECT");
  for (const c of collects) {
    const to = records
      .filter((r) => r.action === "DISCLOSE" && r.eventId === c.eventId)
      .map((r) => `${r.recipient ?? "?"} (${r.grondslag ?? "?"}, ${r.fields.length} fields)`);
    lines.push(
      `  ${c.topic.padEnd(30)} ${c.producer.padEnd(20)} → ${to.length > 0 ? to.join(", ") : "nobody"}`,
    );
  }
  for (const r of records.filter((x) => x.action === "REJECT")) {
    lines.push(
      `  ${r.topic.padEnd(30)} ${(r.recipient ?? r.producer).padEnd(20)} ✗ ${r.reasonCode ?? "?"} (${r.channel})`,
    );
  }
  const count = (a: AuditEntry["action"]) => records.filter((r) => r.action === a).length;
  const byBasis = new Map<string, number>();
  for (const r of records)
    if (r.action === "DISCLOSE") byBasis.set(r.grondslag ?? "?", (byBasis.get(r.grondslag ?? "?") ?? 0) + 1);
  lines.push("");
  lines.push(
    `  audit records: ${records.length} — COLLECT ${count("COLLECT")}, DISCLOSE ${count("DISCLOSE")}, REJECT ${count("REJECT")}`,
  );
  lines.push(`  disclosures by legal basis: ${[...byBasis].map(([b, n]) => `${b} ${n}`).join(", ")}`);
  return lines.join("\n");
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
];
const clock = (time: Date) => time.toISOString().slice(11, 23);

/**
 * The auditor page: who sent what to whom under which legal basis, as a picture (producers → topics → recipients,
 * each disclosure coloured by its grondslag), and the trace of every event as a table (its collection, then its
 * disclosures), then the refusals. A static file for now; the audit service will serve it from its store.
 */
export function auditorPage(records: AuditEntry[], meta: { traceId: string; generated: string }): string {
  const producers = [...new Set(records.filter((r) => r.action === "COLLECT").map((r) => r.producer))].sort();
  const topics = [...new Set(records.filter((r) => r.action !== "REJECT").map((r) => r.topic))].sort();
  const recipients = [
    ...new Set(records.filter((r) => r.action === "DISCLOSE").map((r) => r.recipient ?? "?")),
  ].sort();
  const bases = [
    ...new Set(records.filter((r) => r.action !== "REJECT").map((r) => r.grondslag ?? "?")),
  ].sort();
  const colour = (basis: string | null) => PALETTE[bases.indexOf(basis ?? "?") % PALETTE.length] ?? "#777";
  const rowH = 34;
  const height = Math.max(producers.length, topics.length, recipients.length) * rowH + 60;
  const col = [20, 340, 660] as const;
  const y = (list: string[], v: string) => 50 + list.indexOf(v) * rowH;
  const node = (x: number, yy: number, label: string, cls: string) =>
    `<g class="${cls}"><rect x="${x}" y="${yy - 13}" width="220" height="26" rx="5"/><text x="${x + 10}" y="${yy + 5}">${esc(label)}</text></g>`;
  const curve = (x1: number, y1: number, x2: number, y2: number) =>
    `M${x1},${y1} C${x1 + 60},${y1} ${x2 - 60},${y2} ${x2},${y2}`;
  const edges: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (r.action === "REJECT") continue;
    const to = r.recipient ?? "?";
    const key = r.action === "COLLECT" ? `c|${r.producer}|${r.topic}` : `d|${r.topic}|${to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const d =
      r.action === "COLLECT"
        ? curve(col[0] + 220, y(producers, r.producer), col[1], y(topics, r.topic))
        : curve(col[1] + 220, y(topics, r.topic), col[2], y(recipients, to));
    const title =
      r.action === "COLLECT"
        ? `${r.producer} → ${r.topic} under ${r.grondslag ?? "?"} (${r.purpose ?? "?"})`
        : `${r.topic} → ${to} under ${r.grondslag ?? "?"}: ${r.fields.join(", ")}`;
    edges.push(`<path stroke="${colour(r.grondslag)}" d="${d}"><title>${esc(title)}</title></path>`);
  }
  const legend = bases
    .map((b) => `<span class="key"><i style="background:${colour(b)}"></i>${esc(b)}</span>`)
    .join(" ");
  const subjects = (r: AuditEntry) =>
    r.subjects.map((x) => `${x.type} ${esc(x.pseudonym.slice(0, 8))}…`).join(", ");
  const row = (r: AuditEntry) =>
    `<tr class="${r.action.toLowerCase()}"><td>${clock(r.time)}</td><td>${r.action}</td><td>${esc(r.recipient ?? r.producer)}</td><td><i class="dot" style="background:${colour(r.grondslag)}"></i>${esc(r.grondslag ?? "")}</td><td>${esc(r.purpose ?? "")}</td><td title="${esc(r.fields.join(", "))}">${r.fields.length} fields</td><td>${subjects(r)}</td></tr>`;
  const traces = records
    .filter((r) => r.action === "COLLECT")
    .map((c) => {
      const rows = [c, ...records.filter((r) => r.action === "DISCLOSE" && r.eventId === c.eventId)]
        .map(row)
        .join("");
      return `<h3>${esc(c.topic)} <small>event ${esc(c.eventId.slice(0, 8))}</small></h3><table><thead><tr><th>time</th><th>action</th><th>party</th><th>grondslag</th><th>purpose</th><th>data</th><th>about (pseudonyms)</th></tr></thead><tbody>${rows}</tbody></table>`;
    })
    .join("\n");
  const refusals = records
    .filter((r) => r.action === "REJECT")
    .map(
      (r) =>
        `<tr class="reject"><td>${clock(r.time)}</td><td>${esc(r.topic)}</td><td>${esc(r.recipient ?? r.producer)}</td><td>${esc(r.reasonCode ?? "")}</td><td>${esc(r.purpose ?? "")}</td><td>${esc(r.channel)}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Grondslag — auditor view</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1d2733;max-width:980px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 4px}h3{font-size:14px;margin:18px 0 4px}small{color:#5b6b7c;font-weight:normal}
p.meta{color:#5b6b7c;margin:0 0 12px}
svg rect{fill:#eef3f8;stroke:#7d93ab}.producer rect{fill:#e8f5e9;stroke:#66a36b}.recipient rect{fill:#fff4e0;stroke:#c9963f}
svg text{font-size:12px}path{fill:none;stroke-width:2;opacity:.8}
.key{display:inline-block;margin:0 12px 4px 0;font-size:12px}.key i,.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:middle}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #dde3ea;padding:3px 6px;text-align:left;vertical-align:top;font-size:12px}
tr.reject td{background:#fdecec}tr.collect td:nth-child(2){color:#2e7d32}tr.disclose td:nth-child(2){color:#8a5a00}
</style></head><body>
<h1>Which data flowed, from whom to whom, under which law</h1>
<p class="meta">trace ${esc(meta.traceId)} · generated ${esc(meta.generated)} · persons and companies appear only as keyed pseudonyms · hover a line for its fields</p>
<div>${legend}</div>
<svg width="900" height="${height}" role="img" aria-label="flows from producers through topics to recipients">
<text x="${col[0]}" y="24" font-weight="bold">producer</text><text x="${col[1]}" y="24" font-weight="bold">topic</text><text x="${col[2]}" y="24" font-weight="bold">recipient</text>
${edges.join("\n")}
${producers.map((p) => node(col[0], y(producers, p), p, "producer")).join("\n")}
${topics.map((t) => node(col[1], y(topics, t), t, "topic")).join("\n")}
${recipients.map((r) => node(col[2], y(recipients, r), r, "recipient")).join("\n")}
</svg>
<h2>Traces, one event at a time</h2>
${traces}
<h2>Refusals</h2>
<table><thead><tr><th>time</th><th>topic</th><th>party</th><th>rule</th><th>purpose named</th><th>channel</th></tr></thead><tbody>${refusals || '<tr><td colspan="6">none</td></tr>'}</tbody></table>
</body></html>
`;
}
