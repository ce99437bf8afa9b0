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
