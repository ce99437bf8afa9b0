// The bench's output: the table on stdout and the chart of its ratios (SVG, shown in the README).

export interface BenchRow {
  id: string;
  name: string;
  /** Events (or records, for the producer rows) handled in the timed window. */
  events: number;
  ms: number;
  /** Kafka records the path writes per event (0: none, or not comparable with the physical limit). */
  recordsPerEvent: number;
  /** The row this one is compared with (its raw twin). */
  twin?: string;
  goal?: { twin?: number; eventsPerSecond?: number; p99Ms?: number };
  /** Latency at a constant rate of half the saturation throughput (events/s), in ms. */
  latency?: { rate: number; p50: number; p99: number };
  resources?: { rssPeakMb: number; cpuSeconds: number };
  perSecond?: number;
  xTwin?: number;
  /** Records written per second against the Java producer's records per second. */
  xPhysical?: number;
}

export interface Flood {
  /** The deployment measured (bench.ts: BENCH_FLOOD_VARIANTS). */
  variant: string;
  floodEvents: number;
  floodSeconds: number;
  signals: { sent: number; delivered: number };
  quiet: { n: number; p50: number; p99: number; max: number };
  flood: { n: number; p50: number; p99: number; max: number };
  publishAck: { quiet: { p50: number; p99: number }; flood: { p50: number; p99: number } };
  goalMs: number;
  failedPublishes: number;
  firstFailure?: string;
}

export interface BenchReport {
  run: string;
  at: string;
  eventsPerPhase: number;
  machine: { cores: number; node: string; loadStart: number[]; loadEnd: number[] };
  seconds: number;
  rows: BenchRow[];
  extra: {
    recordSize?: number;
    http?: unknown;
    flood?: Flood;
    floodVariants?: Flood[];
    /** The gateway's idempotency table (PostgreSQL's statistics): live and dead rows. */
    idempotencyAtStart?: { live: number; dead: number };
    idempotencyAtEnd?: { live: number; dead: number };
  };
}

/** A goal's verdict for a row, or undefined when it has none. */
export function verdict(r: BenchRow): { text: string; met: boolean } | undefined {
  const g = r.goal;
  if (!g) return undefined;
  const parts: { text: string; met: boolean }[] = [];
  if (g.twin !== undefined) parts.push({ text: `≥ ${g.twin}× twin`, met: (r.xTwin ?? 0) >= g.twin });
  if (g.eventsPerSecond !== undefined) {
    parts.push({ text: `≥ ${g.eventsPerSecond}/s`, met: (r.perSecond ?? 0) >= g.eventsPerSecond });
  }
  if (g.p99Ms !== undefined) {
    parts.push({ text: `p99 ≤ ${g.p99Ms} ms`, met: (r.latency?.p99 ?? Infinity) <= g.p99Ms });
  }
  return { text: parts.map((p) => p.text).join(", "), met: parts.every((p) => p.met) };
}

const fmt = (x: number | undefined, digits: number) => (x === undefined ? "" : x.toFixed(digits));

export function table(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `\nGateway benchmark ${report.run}: ${report.eventsPerPhase} events per phase, ${m.cores} cores, Node ${m.node}, ` +
      `${report.seconds.toFixed(0)} s; load average ${m.loadStart.map((x) => x.toFixed(2)).join(" ")} at the start, ` +
      `${m.loadEnd.map((x) => x.toFixed(2)).join(" ")} at the end`,
  );
  if (report.extra.recordSize) {
    lines.push(`records of ${report.extra.recordSize} bytes (the mean of a canonical event and its COLLECT)`);
  }
  const rowsOf = (r: { live: number; dead: number }) =>
    `${r.live.toLocaleString("en")} live rows, ${r.dead.toLocaleString("en")} dead`;
  const { idempotencyAtStart: i0, idempotencyAtEnd: i1 } = report.extra;
  if (i0 && i1) lines.push(`idempotency table: ${rowsOf(i0)} at the start; ${rowsOf(i1)} at the end`);
  lines.push("");
  const head = `  ${"phase".padEnd(92)} ${"events/s".padStart(9)} ${"ms/event".padStart(9)} ${"× twin".padStart(7)} ${"× phys".padStart(7)}  goal`;
  lines.push(head, `  ${"-".repeat(head.length - 2)}`);
  for (const r of report.rows) {
    const v = verdict(r);
    lines.push(
      `  ${r.name.padEnd(92)} ${fmt(r.perSecond, 0).padStart(9)} ${fmt(r.ms / r.events, 4).padStart(9)} ` +
        `${fmt(r.xTwin, 2).padStart(7)} ${fmt(r.xPhysical, 2).padStart(7)}  ${v ? `${v.text}: ${v.met ? "met" : "NOT met"}` : ""}`,
    );
  }
  const lat = report.rows.filter((r) => r.latency);
  if (lat.length > 0) {
    lines.push("", "  latency at a constant rate of half the saturation (autocannon, its own process):");
    for (const r of lat) {
      const l = r.latency!;
      lines.push(
        `    ${r.id.padEnd(14)} ${String(Math.round(l.rate)).padStart(7)} events/s   p50 ${l.p50.toFixed(1).padStart(6)} ms   p99 ${l.p99.toFixed(1).padStart(6)} ms`,
      );
    }
  }
  const res = report.rows.filter((r) => r.resources);
  if (res.length > 0) {
    lines.push("", "  the gateway's process (its own RSS and CPU time, from /proc):");
    for (const r of res) {
      const x = r.resources!;
      lines.push(
        `    ${r.id.padEnd(14)} peak RSS ${x.rssPeakMb.toFixed(0).padStart(4)} MB   ${((x.cpuSeconds / r.events) * 1000).toFixed(3)} CPU s per 1,000 events`,
      );
    }
    const peak = Math.max(...res.map((r) => r.resources!.rssPeakMb));
    lines.push(
      `    goal: RSS ≤ 300 MB under load: ${peak <= 300 ? "met" : "NOT met"} (peak ${peak.toFixed(0)} MB)`,
    );
  }
  for (const f of report.extra.floodVariants ?? (report.extra.flood ? [report.extra.flood] : [])) {
    lines.push(
      "",
      `  an LSI signal, publish → SVB's HTTP mailbox [${f.variant}] (${f.signals.delivered} of ${f.signals.sent} seen):`,
      `    quiet bus          p50 ${f.quiet.p50.toFixed(0).padStart(5)} ms   p99 ${f.quiet.p99.toFixed(0).padStart(5)} ms   (${f.quiet.n} signals)`,
      `    ${`during ${f.floodEvents} reports`.padEnd(18)} p50 ${f.flood.p50.toFixed(0).padStart(5)} ms   p99 ${f.flood.p99.toFixed(0).padStart(5)} ms   (${f.flood.n} signals, flood drained in ${f.floodSeconds.toFixed(1)} s)`,
      `    publish's 202      quiet p99 ${f.publishAck.quiet.p99.toFixed(0)} ms, during the flood p99 ${f.publishAck.flood.p99.toFixed(0)} ms`,
      `    goal: p99 < ${f.goalMs} ms during the flood: ${f.flood.p99 < f.goalMs ? "met" : "NOT met"}`,
      ...(f.failedPublishes > 0
        ? [`    ${f.failedPublishes} signal publishes failed: ${f.firstFailure ?? ""}`]
        : []),
    );
  }
  return `${lines.join("\n")}\n`;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** One horizontal bar chart: × twin (and × physical limit) per path, with each goal marked. */
export function chart(report: BenchReport): string {
  const rows = report.rows.filter(
    (r) =>
      r.xTwin !== undefined || (r.xPhysical !== undefined && r.twin === undefined && r.id.startsWith("http")),
  );
  const W = 820;
  const left = 300;
  const scale = 400; // pixels for 1.0×
  const rowH = 44;
  const top = 56;
  const H = top + rows.length * rowH + 64;
  const x = (v: number) => left + Math.min(v, 1.25) * scale;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">Grondslag gateway: each path against its raw twin, one run</text>`,
    `<text x="12" y="40" fill="#555">${esc(`${report.eventsPerPhase} events per phase, ${report.machine.cores} cores, load ${report.machine.loadStart[0]?.toFixed(2)}; ${report.at.slice(0, 10)}`)}</text>`,
  );
  for (const t of [0, 0.25, 0.5, 0.75, 1, 1.25]) {
    out.push(
      `<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${top + rows.length * rowH}" stroke="#ddd"/>`,
      `<text x="${x(t)}" y="${top + rows.length * rowH + 14}" text-anchor="middle" fill="#555">${t}×</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const label = r.id.startsWith("http-single")
      ? "HTTP single publish ÷ /healthz"
      : r.id.startsWith("http-batch")
        ? "HTTP batch (× physical only)"
        : r.id.startsWith("ingress")
          ? "Kafka ingress ÷ raw pipe"
          : r.id.startsWith("fanout")
            ? `fan-out to ${r.id.slice(6)} ÷ raw pipe`
            : r.id === "audit"
              ? "audit ingest ÷ consume+decode"
              : r.id;
    out.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(label)}</text>`);
    if (r.xTwin !== undefined) {
      out.push(
        `<rect x="${left}" y="${y + 4}" width="${x(r.xTwin) - left}" height="14" fill="#1f5fa8"/>`,
        `<text x="${x(r.xTwin) + 4}" y="${y + 16}" fill="#1f5fa8">${r.xTwin.toFixed(2)}× twin</text>`,
      );
    }
    if (r.xPhysical !== undefined) {
      out.push(
        `<rect x="${left}" y="${y + 21}" width="${x(r.xPhysical) - left}" height="10" fill="#9bb8d8"/>`,
        `<text x="${x(r.xPhysical) + 4}" y="${y + 31}" fill="#4a6f96" font-size="11">${r.xPhysical.toFixed(2)}× Java producer</text>`,
      );
    }
    if (r.goal?.twin !== undefined) {
      out.push(
        `<line x1="${x(r.goal.twin)}" y1="${y + 1}" x2="${x(r.goal.twin)}" y2="${y + 21}" stroke="#c0392b" stroke-width="2"/>`,
      );
    }
  });
  const ly = top + rows.length * rowH + 34;
  out.push(
    `<rect x="12" y="${ly - 10}" width="12" height="10" fill="#1f5fa8"/><text x="28" y="${ly}">events/s ÷ its raw twin</text>`,
    `<rect x="200" y="${ly - 10}" width="12" height="10" fill="#9bb8d8"/><text x="216" y="${ly}">records written/s ÷ Kafka's Java producer</text>`,
    `<line x1="470" y1="${ly - 11}" x2="470" y2="${ly + 1}" stroke="#c0392b" stroke-width="2"/><text x="476" y="${ly}">goal</text>`,
  );
  const f = report.extra.flood;
  if (f) {
    out.push(
      `<text x="12" y="${ly + 20}" fill="#333">${esc(`LSI signal to SVB's mailbox during a flood of ${f.floodEvents} reports: p99 ${f.flood.p99.toFixed(0)} ms (quiet ${f.quiet.p99.toFixed(0)} ms; goal < ${f.goalMs} ms)`)}</text>`,
    );
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
