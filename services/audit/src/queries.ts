import type pg from "pg";
import { fromRow, type Row } from "./db";
import type { StoredRecord } from "./chain";

/** What auditors ask the store; every question is recorded first (`record`), and nobody can delete that record. */

export interface Period {
  /** Inclusive, epoch ms. */
  from?: number | undefined;
  /** Exclusive, epoch ms. */
  to?: number | undefined;
}

export interface FlowFilter extends Period {
  /** A party on either end (producer or consumer). */
  party?: string | undefined;
  grondslag?: string | undefined;
  purpose?: string | undefined;
  topic?: string | undefined;
  /** Only the records of one W3C trace (a run, a case). */
  traceId?: string | undefined;
}

export interface Flow {
  producer: string;
  topic: string;
  /** The consumer (DISCLOSE), or null for what was collected. */
  consumer: string | null;
  action: "COLLECT" | "DISCLOSE" | "REJECT";
  grondslag: string | null;
  purpose: string | null;
  count: number;
  first: string;
  last: string;
}

export interface QueryRecord {
  id: number;
  at: string;
  auditor: string;
  tokenId: string | null;
  purpose: string;
  query: string;
  parameters: Record<string, unknown>;
}

/** One entry in the shape of the Logboek Dataverwerkingen standard: a span per processing action and subject. */
export interface LogboekEntry {
  traceId: string;
  spanId: string;
  name: string;
  startTime: string;
  endTime: string;
  statusCode: "OK" | "ERROR";
  resource: { name: string };
  attributes: {
    "dpl.core.processing_activity_id": string | null;
    "dpl.core.legal_basis": string | null;
    "dpl.core.data_subject_id": string | null;
    "dpl.core.data_subject_id_type": string | null;
    "grondslag.topic": string;
    "grondslag.producer": string;
    "grondslag.recipient": string | null;
    "grondslag.event_id": string;
    "grondslag.record_id": string;
  };
}

export const LOGBOEK_CSV_COLUMNS = [
  "traceId",
  "spanId",
  "name",
  "startTime",
  "endTime",
  "statusCode",
  "resource.name",
  "dpl.core.processing_activity_id",
  "dpl.core.legal_basis",
  "dpl.core.data_subject_id",
  "dpl.core.data_subject_id_type",
  "grondslag.topic",
  "grondslag.producer",
  "grondslag.recipient",
  "grondslag.event_id",
  "grondslag.record_id",
] as const;

function where(f: FlowFilter, params: unknown[]): string {
  const clauses: string[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    clauses.push(sql.replace("?", `$${params.length}`));
  };
  if (f.from !== undefined) add("time_ms >= ?", f.from);
  if (f.to !== undefined) add("time_ms < ?", f.to);
  if (f.grondslag !== undefined) add("grondslag = ?", f.grondslag);
  if (f.purpose !== undefined) add("purpose = ?", f.purpose);
  if (f.topic !== undefined) add("topic = ?", f.topic);
  if (f.traceId !== undefined) add("trace_id = ?", f.traceId);
  if (f.party !== undefined) {
    params.push(f.party);
    clauses.push(`(producer = $${params.length} OR recipient = $${params.length})`);
  }
  return clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
}

export class AuditQueries {
  constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
  ) {}

  /** Records the question before it is answered: when this fails, the question is not answered. */
  async record(q: Omit<QueryRecord, "id" | "at">): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO ${this.s}.queries (auditor, token_id, purpose, query, parameters) VALUES ($1, $2, $3, $4, $5)
       RETURNING id`,
      [q.auditor, q.tokenId, q.purpose, q.query, JSON.stringify(q.parameters)],
    );
    return Number(rows[0]!.id);
  }

  async queries(limit = 200): Promise<QueryRecord[]> {
    const { rows } = await this.pool.query<{
      id: string;
      at: Date;
      auditor: string;
      token_id: string | null;
      purpose: string;
      query: string;
      parameters: Record<string, unknown>;
    }>(`SELECT * FROM ${this.s}.queries ORDER BY id DESC LIMIT $1`, [limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at.toISOString(),
      auditor: r.auditor,
      tokenId: r.token_id,
      purpose: r.purpose,
      query: r.query,
      parameters: r.parameters,
    }));
  }

  /** Flows: producer → topic → consumer, by action, legal basis and purpose, counted, in the period. */
  async flows(f: FlowFilter): Promise<Flow[]> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<{
      producer: string;
      topic: string;
      recipient: string | null;
      action: Flow["action"];
      grondslag: string | null;
      purpose: string | null;
      n: string;
      first: string;
      last: string;
    }>(
      `SELECT producer, topic, recipient, action, grondslag, purpose, count(*) AS n, min(time_ms) AS first,
              max(time_ms) AS last
         FROM ${this.s}.records ${where(f, params)}
        GROUP BY producer, topic, recipient, action, grondslag, purpose
        ORDER BY producer, topic, action, recipient NULLS FIRST, grondslag, purpose`,
      params,
    );
    return rows.map((r) => ({
      producer: r.producer,
      topic: r.topic,
      consumer: r.recipient,
      action: r.action,
      grondslag: r.grondslag,
      purpose: r.purpose,
      count: Number(r.n),
      first: new Date(Number(r.first)).toISOString(),
      last: new Date(Number(r.last)).toISOString(),
    }));
  }

  /** Every record of one event: its collection, each disclosure with the fields given, every refusal. */
  async trace(eventId: string): Promise<StoredRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.s}.records WHERE event_id = $1 ORDER BY time_ms, action, recipient NULLS FIRST`,
      [eventId],
    );
    return rows.map(fromRow);
  }

  /** The records about one data subject (by keyed pseudonym), of the given actions. */
  async aboutSubject(type: "bsn" | "kvk", pseudonym: string, actions: string[]): Promise<StoredRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.s}.records WHERE subjects @> $1::jsonb AND action = ANY($2::text[])
        ORDER BY time_ms, id`,
      [JSON.stringify([{ type, pseudonym }]), actions],
    );
    return rows.map(fromRow);
  }

  async records(p: Period & { traceId?: string | undefined }, limit: number): Promise<StoredRecord[]> {
    const params: unknown[] = [];
    params.push(limit);
    const w = where(p, params);
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.s}.records ${w} ORDER BY time_ms, partition, seq LIMIT $1`,
      params,
    );
    return rows.map(fromRow);
  }
}

export function logboekEntries(records: StoredRecord[]): LogboekEntry[] {
  return records.flatMap((r) => {
    const at = new Date(r.time).toISOString();
    const subjects = r.subjects.length > 0 ? r.subjects : [undefined];
    return subjects.map((s) => ({
      traceId: r.traceId,
      spanId: r.spanId,
      name: r.action,
      startTime: at,
      endTime: at,
      statusCode: r.action === "REJECT" ? ("ERROR" as const) : ("OK" as const),
      resource: { name: "grondslag-gateway" },
      attributes: {
        "dpl.core.processing_activity_id": r.purpose,
        "dpl.core.legal_basis": r.grondslag,
        "dpl.core.data_subject_id": s?.pseudonym ?? null,
        "dpl.core.data_subject_id_type": s?.type ?? null,
        "grondslag.topic": r.topic,
        "grondslag.producer": r.producer,
        "grondslag.recipient": r.recipient,
        "grondslag.event_id": r.eventId,
        "grondslag.record_id": r.id,
      },
    }));
  });
}

function csvCell(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? "" : String(v);
  // Quoted when needed; a leading formula character is neutralised for spreadsheet programs (not `-`, which
  // starts some base64url pseudonyms and no formula a spreadsheet runs from our values).
  const safe = /^[=+@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function logboekCsv(entries: LogboekEntry[]): string {
  const lines = [LOGBOEK_CSV_COLUMNS.join(",")];
  for (const e of entries) {
    const flat: Record<string, string | null> = {
      traceId: e.traceId,
      spanId: e.spanId,
      name: e.name,
      startTime: e.startTime,
      endTime: e.endTime,
      statusCode: e.statusCode,
      "resource.name": e.resource.name,
      ...e.attributes,
    };
    lines.push(LOGBOEK_CSV_COLUMNS.map((c) => csvCell(flat[c])).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
