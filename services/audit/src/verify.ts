import type { JWK } from "jose";
import { walkPartition, type ChainFault, type ChainHead, type StoredRecord } from "./chain";
import { verifyCheckpoint } from "./checkpoint";

/** Where verification reads from: the live database, or a dump of it (offline). */
export interface VerifySource {
  partitions(): Promise<number[]>;
  rows(partition: number): AsyncIterable<StoredRecord> | Iterable<StoredRecord>;
  checkpoints(): Promise<{ id: number; jws: string }[]>;
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  heads: ChainHead[];
  checkpoints: { checked: number; lastId: number | undefined; lastTotal: number | undefined };
  /** Every fault found, the first (lowest partition, then position) first. */
  faults: ChainFault[];
}

async function collect(it: AsyncIterable<StoredRecord> | Iterable<StoredRecord>): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/**
 * Recomputes every partition's chain, then checks every checkpoint: its signature, and that each head it signed
 * is the recomputed hash at that position (a deleted tail, or an edit with recomputed hashes, shows here).
 */
export async function verifyChains(source: VerifySource, publicJwk: JWK | undefined): Promise<VerifyReport> {
  const faults: ChainFault[] = [];
  const heads: ChainHead[] = [];
  const hashes = new Map<number, Map<number, string>>();
  const stored = new Map<number, number>();
  let records = 0;
  for (const p of await source.partitions()) {
    const rows = await collect(source.rows(p));
    records += rows.length;
    stored.set(p, rows.length === 0 ? 0 : rows[rows.length - 1]!.seq);
    const walk = walkPartition(p, rows);
    heads.push(walk.head);
    hashes.set(p, walk.hashes);
    if (walk.fault) faults.push(walk.fault);
  }
  const cps = (await source.checkpoints()).sort((a, b) => a.id - b.id);
  let last: { id: number; total: number } | undefined;
  for (const cp of cps) {
    if (!publicJwk) break;
    let payload;
    try {
      payload = await verifyCheckpoint(cp.jws, publicJwk);
    } catch (err) {
      faults.push({
        kind: "checkpoint",
        partition: -1,
        seq: 0,
        recordId: undefined,
        detail: `checkpoint ${cp.id}: the signature does not verify (${err instanceof Error ? err.message : String(err)})`,
      });
      continue;
    }
    last = { id: cp.id, total: payload.total };
    for (const h of payload.heads) {
      if (h.count === 0) continue;
      const mine = hashes.get(h.partition)?.get(h.count);
      if (mine === h.hash) continue;
      if (faults.some((f) => f.partition === h.partition && f.kind !== "checkpoint")) continue;
      const have = stored.get(h.partition) ?? 0;
      faults.push(
        have < h.count
          ? {
              kind: "truncated",
              partition: h.partition,
              seq: have + 1,
              recordId: undefined,
              detail: `partition ${h.partition}: checkpoint ${cp.id} signed ${h.count} records, ${have} are stored: the records from position ${have + 1} on were deleted`,
            }
          : {
              kind: "altered",
              partition: h.partition,
              seq: h.count,
              recordId: undefined,
              detail: `partition ${h.partition}, position ${h.count}: the chain differs from what checkpoint ${cp.id} signed (records at or before it were rewritten with new hashes)`,
            },
      );
    }
  }
  faults.sort((a, b) => a.partition - b.partition || a.seq - b.seq);
  return {
    ok: faults.length === 0,
    records,
    heads,
    checkpoints: { checked: publicJwk ? cps.length : 0, lastId: last?.id, lastTotal: last?.total },
    faults,
  };
}
