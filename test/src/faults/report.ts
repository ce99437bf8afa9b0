import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "@grondslag/infra";
import type { FaultFigures, Level } from "./bus";

/** Where the figures go (git-ignored): the lead copies them into RELIABILITY.md. */
export const REPORT_FILE = path.join(REPO_ROOT, "test", ".artifacts", "faults-report.json");

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/** Adds one fault's figures to the report file (one entry per fault, the latest run's) and returns the table. */
export function writeReport(level: Level, f: FaultFigures): string {
  fs.mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  let report: { level: Level; updatedAt: string; faults: Record<string, FaultFigures> } = {
    level,
    updatedAt: "",
    faults: {},
  };
  if (fs.existsSync(REPORT_FILE)) {
    try {
      const old = JSON.parse(fs.readFileSync(REPORT_FILE, "utf8")) as typeof report;
      if (old.level === level) report = old;
    } catch {
      // a broken file is replaced
    }
  }
  report.updatedAt = new Date().toISOString();
  report.faults[f.fault] = f;
  fs.writeFileSync(REPORT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  return table(Object.values(report.faults));
}

export function table(rows: FaultFigures[]): string {
  const head = [
    "fault",
    "reps",
    "offered",
    "acked",
    "delivered",
    "lost",
    "dup DISCLOSE",
    "dup canonical",
    "repeats (same id)",
    "recovery median / max (of it: publish)",
    "crashes",
  ];
  const lines = rows.map((f) => [
    f.fault,
    String(f.repetitions),
    String(f.offered),
    String(f.acknowledged),
    String(f.delivered),
    String(f.lost),
    String(f.duplicatedDisclosures),
    String(f.canonicalDuplicates),
    `${f.rawDeliveryRepeats} raw, ${f.repeatsAcrossInstances} to code`,
    `${(median(f.recoveryMs) / 1000).toFixed(1)} s / ${(Math.max(...f.recoveryMs) / 1000).toFixed(1)} s (${(median(f.recoveryAckMs ?? []) / 1000).toFixed(1)} s)`,
    Object.entries(f.crashes)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ×${n}`)
      .join(", ") || "0",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [fmt(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(fmt)].join("\n");
}
