import type { AuditEntry } from "./audit-log";

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

/**
 * The auditor page: who sent what to whom under which legal basis, as a picture (producers → topics → recipients,
 * each line labelled with its grondslag), and every audit record of the run as a table. A static file for now;
 * the audit service will serve it from its PostgreSQL store.
 */
export function auditorPage(records: AuditEntry[], meta: { traceId: string; generated: string }): string {
  const producers = [...new Set(records.filter((r) => r.action === "COLLECT").map((r) => r.producer))].sort();
  const topics = [...new Set(records.filter((r) => r.action !== "REJECT").map((r) => r.topic))].sort();
  const recipients = [
    ...new Set(records.filter((r) => r.action === "DISCLOSE").map((r) => r.recipient ?? "?")),
  ].sort();
  const rowH = 34;
  const height = Math.max(producers.length, topics.length, recipients.length) * rowH + 60;
  const col = [40, 380, 720];
  const y = (list: string[], v: string) => 50 + list.indexOf(v) * rowH;
  const node = (x: number, yy: number, label: string, cls: string) =>
    `<g class="${cls}"><rect x="${x}" y="${yy - 13}" width="220" height="26" rx="5"/><text x="${x + 10}" y="${yy + 5}">${esc(label)}</text></g>`;
  const edges: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (r.action === "COLLECT") {
      const k = `c|${r.producer}|${r.topic}`;
      if (seen.has(k)) continue;
      seen.add(k);
      edges.push(
        `<path class="collect" d="M${col[0]! + 220},${y(producers, r.producer)} C${col[0]! + 300},${y(producers, r.producer)} ${col[1]! - 80},${y(topics, r.topic)} ${col[1]},${y(topics, r.topic)}"><title>${esc(`${r.producer} → ${r.topic} under ${r.grondslag ?? "?"} (${r.purpose ?? "?"})`)}</title></path>`,
      );
    } else if (r.action === "DISCLOSE") {
      const to = r.recipient ?? "?";
      const k = `d|${r.topic}|${to}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const y1 = y(topics, r.topic);
      const y2 = y(recipients, to);
      edges.push(
        `<path class="disclose" d="M${col[1]! + 220},${y1} C${col[1]! + 300},${y1} ${col[2]! - 80},${y2} ${col[2]},${y2}"><title>${esc(`${r.topic} → ${to} under ${r.grondslag ?? "?"}: ${r.fields.join(", ")}`)}</title></path>`,
        `<text class="basis" x="${col[2]! - 110}" y="${(y1 + y2) / 2 + (y2 > y1 ? 8 : -4)}">${esc(r.grondslag ?? "")}</text>`,
      );
    }
  }
  const rows = records
    .map(
      (r) =>
        `<tr class="${r.action.toLowerCase()}"><td>${esc(r.time)}</td><td>${r.action}</td><td>${esc(r.topic)}</td><td>${esc(r.producer)}</td><td>${esc(r.recipient ?? "")}</td><td>${esc(r.grondslag ?? "")}</td><td>${esc(r.purpose ?? "")}</td><td>${esc(r.reasonCode ?? "")}</td><td title="${esc(r.fields.join(", "))}">${r.fields.length}</td><td>${r.subjects.map((s) => `${s.type}:${esc(s.pseudonym.slice(0, 10))}…`).join("<br>")}</td><td><code>${esc(r.eventId.slice(0, 8))}</code></td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Grondslag — auditor view</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1d2733}
h1{font-size:20px;margin:0 0 4px}p.meta{color:#5b6b7c;margin:0 0 16px}
svg rect{fill:#eef3f8;stroke:#7d93ab}.producer rect{fill:#e8f5e9;stroke:#66a36b}.recipient rect{fill:#fff4e0;stroke:#c9963f}
svg text{font-size:12px}path{fill:none;stroke-width:2}path.collect{stroke:#66a36b}path.disclose{stroke:#c9963f}
text.basis{fill:#8a5a00;font-size:10px}
table{border-collapse:collapse;margin-top:16px;width:100%}th,td{border-bottom:1px solid #dde3ea;padding:4px 6px;text-align:left;vertical-align:top;font-size:12px}
tr.reject td{background:#fdecec}tr.collect td:nth-child(2){color:#2e7d32}tr.disclose td:nth-child(2){color:#8a5a00}
</style></head><body>
<h1>Which data flowed, from whom to whom, under which law</h1>
<p class="meta">trace ${esc(meta.traceId)} · generated ${esc(meta.generated)} · persons and companies appear only as keyed pseudonyms</p>
<svg width="960" height="${height}" role="img" aria-label="flows">
<text x="${col[0]}" y="24" font-weight="bold">producer</text><text x="${col[1]}" y="24" font-weight="bold">topic</text><text x="${col[2]}" y="24" font-weight="bold">recipient</text>
${edges.join("\n")}
${producers.map((p) => node(col[0]!, y(producers, p), p, "producer")).join("\n")}
${topics.map((t) => node(col[1]!, y(topics, t), t, "topic")).join("\n")}
${recipients.map((r) => node(col[2]!, y(recipients, r), r, "recipient")).join("\n")}
</svg>
<table><thead><tr><th>time</th><th>action</th><th>topic</th><th>producer</th><th>recipient</th><th>grondslag</th><th>purpose</th><th>refusal</th><th>fields</th><th>subjects</th><th>event</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
