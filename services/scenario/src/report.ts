/** A flow as the audit service's `GET /v1/flows` answers it. */
export interface Flow {
  producer: string;
  topic: string;
  consumer: string | null;
  action: "COLLECT" | "DISCLOSE" | "REJECT";
  grondslag: string | null;
  purpose: string | null;
  count: number;
}

/** Counts per action in a set of flows. */
export function countsOf(flows: Flow[]): Record<Flow["action"], number> {
  const n = { COLLECT: 0, DISCLOSE: 0, REJECT: 0 };
  for (const f of flows) n[f.action] += f.count;
  return n;
}

/**
 * The terminal summary, from the audit service's own answer for this run's trace: every flow (producer → topic →
 * recipients, with the legal basis), the refusals, then totals by action and by legal basis.
 */
export function summary(flows: Flow[]): string {
  const lines: string[] = [];
  const collected = flows.filter((f) => f.action === "COLLECT");
  for (const c of collected) {
    const to = flows
      .filter((f) => f.action === "DISCLOSE" && f.topic === c.topic && f.producer === c.producer)
      .map((f) => `${f.consumer ?? "?"} (${f.grondslag ?? "?"}${f.count > 1 ? ` ×${f.count}` : ""})`);
    lines.push(
      `  ${c.topic.padEnd(30)} ${c.producer.padEnd(20)} ×${c.count} → ${to.length > 0 ? to.join(", ") : "nobody"}`,
    );
  }
  for (const r of flows.filter((x) => x.action === "REJECT")) {
    lines.push(`  ${r.topic.padEnd(30)} ${(r.consumer ?? r.producer).padEnd(20)} ✗ refused ×${r.count}`);
  }
  const n = countsOf(flows);
  const byBasis = new Map<string, number>();
  for (const f of flows) {
    if (f.action === "DISCLOSE")
      byBasis.set(f.grondslag ?? "?", (byBasis.get(f.grondslag ?? "?") ?? 0) + f.count);
  }
  lines.push("");
  lines.push(
    `  audit records: ${n.COLLECT + n.DISCLOSE + n.REJECT} — COLLECT ${n.COLLECT}, DISCLOSE ${n.DISCLOSE}, REJECT ${n.REJECT}`,
  );
  lines.push(`  disclosures by legal basis: ${[...byBasis].map(([b, k]) => `${b} ${k}`).join(", ")}`);
  return lines.join("\n");
}

/** The per-service view the summary needs (a subset of an agency's `GET /v1/state`). */
export interface ServiceTally {
  party: string;
  service: string;
  handled: number;
  outbox: { topic: string; state: string; refusalCode: string | null; refusalDetail: string | null }[];
  deadLetters: unknown[];
}

const table = (head: string[], rows: (string | number)[][]): string => {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (cells: (string | number)[]) =>
    `  ${cells.map((c, i) => (typeof c === "number" ? String(c).padStart(widths[i] ?? 0) : String(c).padEnd(widths[i] ?? 0))).join("  ")}`;
  return [line(head), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
};

/**
 * The summary of an `npm start` run: events per topic and deliveries per party (from the audit service's records
 * of the run), reactions per service (from each agency's own state), and every refusal with its reason.
 */
export function runSummary(
  flows: Flow[],
  services: ServiceTally[],
  attempt: { code?: string; detail?: string; ok: boolean },
): string {
  const byTopic = new Map<string, number>();
  const byParty = new Map<string, number>();
  for (const f of flows) {
    if (f.action === "COLLECT") byTopic.set(f.topic, (byTopic.get(f.topic) ?? 0) + f.count);
    if (f.action === "DISCLOSE" && f.consumer)
      byParty.set(f.consumer, (byParty.get(f.consumer) ?? 0) + f.count);
  }
  const refusals: (string | number)[][] = [];
  for (const s of services) {
    for (const o of s.outbox.filter((x) => x.state === "refused" || x.state === "failed")) {
      refusals.push([s.party, o.topic, o.refusalCode ?? "?", o.refusalDetail ?? ""]);
    }
  }
  if (attempt.ok)
    refusals.push([
      "uitlener.90000002",
      "arbo.accident-reported (read)",
      attempt.code ?? "",
      attempt.detail ?? "",
    ]);
  const n = countsOf(flows);
  return [
    "  Events per topic (accepted by the gateway, audit COLLECT)",
    table(
      ["topic", "events"],
      [...byTopic].sort((a, b) => a[0].localeCompare(b[0])),
    ),
    "",
    "  Deliveries per party (audit DISCLOSE)",
    table(
      ["party", "deliveries"],
      [...byParty].sort((a, b) => a[0].localeCompare(b[0])),
    ),
    "",
    "  Reactions per service (each agency's own state)",
    table(
      ["party", "service", "handled", "published", "refused", "dead letters"],
      services.map((s) => [
        s.party,
        s.service,
        s.handled,
        s.outbox.filter((o) => o.state === "sent" || o.state === "published").length,
        s.outbox.filter((o) => o.state === "refused" || o.state === "failed").length,
        s.deadLetters.length,
      ]),
    ),
    "",
    "  Refusals, with the gateway's reasons",
    table(
      ["party", "topic", "code", "reason"],
      refusals.map((r) =>
        r.map((c) => (typeof c === "string" && c.length > 110 ? `${c.slice(0, 107)}…` : c)),
      ),
    ),
    "",
    `  audit records of this run: ${n.COLLECT + n.DISCLOSE + n.REJECT} — COLLECT ${n.COLLECT}, DISCLOSE ${n.DISCLOSE}, REJECT ${n.REJECT}`,
  ].join("\n");
}
