import { fromRow } from "./db";
import type { StoredRecord } from "./chain";
import type { VerifySource } from "./verify";

/**
 * Reads a plain-format `pg_dump` of the audit schema (the COPY blocks of `records` and `checkpoints`), so a copy of
 * the store can be verified offline, without PostgreSQL.
 */

/** One COPY text-format field: `\N` is NULL; backslash escapes as PostgreSQL writes them. */
export function copyField(raw: string): string | null {
  if (raw === "\\N") return null;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "v":
        return "\v";
      case "x":
        return String.fromCharCode(parseInt(e.slice(1), 16));
      default:
        return /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e;
    }
  });
}

/** The rows of each COPY block in the dump, by table name (without schema), as column → text. */
export function copyBlocks(dump: string): Map<string, Record<string, string | null>[]> {
  const tables = new Map<string, Record<string, string | null>[]>();
  const lines = dump.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^COPY (?:"?[\w]+"?\.)?"?(\w+)"? \(([^)]*)\) FROM stdin;$/.exec(lines[i]!);
    if (!m) continue;
    const cols = m[2]!.split(",").map((c) => c.trim().replace(/^"|"$/g, ""));
    const rows: Record<string, string | null>[] = [];
    for (i++; i < lines.length && lines[i] !== "\\."; i++) {
      const values = lines[i]!.split("\t").map(copyField);
      rows.push(Object.fromEntries(cols.map((c, k) => [c, values[k] ?? null])));
    }
    tables.set(m[1]!, [...(tables.get(m[1]!) ?? []), ...rows]);
  }
  return tables;
}

export function dumpSource(dump: string): VerifySource {
  const blocks = copyBlocks(dump);
  if (!blocks.has("records")) {
    throw new Error(
      "the dump has no COPY block of the audit records: dump with pg_dump --schema=<audit schema>",
    );
  }
  const byPartition = new Map<number, StoredRecord[]>();
  for (const raw of blocks.get("records") ?? []) {
    const r = fromRow({
      ...(raw as unknown as Parameters<typeof fromRow>[0]),
      partition: Number(raw.partition),
      schema_id: raw.schema_id === null ? null : Number(raw.schema_id),
      fields: JSON.parse(raw.fields ?? "[]") as string[],
      subjects: JSON.parse(raw.subjects ?? "[]") as { type: string; pseudonym: string }[],
    });
    let list = byPartition.get(r.partition);
    if (!list) byPartition.set(r.partition, (list = []));
    list.push(r);
  }
  for (const rows of byPartition.values()) rows.sort((a, b) => a.seq - b.seq);
  const checkpoints = (blocks.get("checkpoints") ?? []).map((c) => ({ id: Number(c.id), jws: c.jws ?? "" }));
  return {
    partitions: () => Promise.resolve([...byPartition.keys()].sort((a, b) => a - b)),
    rows: (p) => byPartition.get(p) ?? [],
    checkpoints: () => Promise.resolve(checkpoints),
  };
}
