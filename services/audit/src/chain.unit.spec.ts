import { auditRecord } from "@grondslag/kit";
import { describe, expect, it } from "vitest";
import { contentOf, extend, GENESIS, walkPartition, type StoredRecord } from "./chain";
import { checkpointSigner, generateCheckpointKey, verifyCheckpoint } from "./checkpoint";
import { copyText } from "./db";
import { copyBlocks, copyField, dumpSource } from "./dump";
import { logboekCsv, logboekEntries } from "./queries";
import { verifyChains } from "./verify";

const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
function chain(n: number, partition = 0): StoredRecord[] {
  const records = Array.from({ length: n }, (_, i) => ({
    content: contentOf(
      partition,
      auditRecord({
        action: "COLLECT",
        topic: "arbo.accident-reported",
        eventId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        producer: "nla",
        fields: ["victim.bsn"],
        channel: "http",
        trace,
        time: new Date(1_700_000_000_000 + i),
        subjects: [{ type: "bsn", pseudonym: `p${i}` }],
      }),
    ),
    kafkaOffset: String(i),
  }));
  return extend({ partition, count: 0, hash: GENESIS }, records).rows;
}

describe("hash chains (pure)", () => {
  it("an untouched chain walks to its head", () => {
    const rows = chain(5);
    const walk = walkPartition(0, rows);
    expect(walk.fault).toBeUndefined();
    expect(walk.head).toEqual({ partition: 0, count: 5, hash: rows[4]!.hash });
  });

  it("names an altered record", () => {
    const rows = chain(5);
    rows[2] = { ...rows[2]!, recipient: "someone" };
    expect(walkPartition(0, rows).fault).toMatchObject({ kind: "altered", seq: 3, recordId: rows[2].id });
  });

  it("names a deleted record by its position", () => {
    const rows = chain(5);
    rows.splice(1, 1);
    expect(walkPartition(0, rows).fault).toMatchObject({ kind: "deleted", seq: 2 });
  });

  it("names a deletion that was renumbered", () => {
    const rows = chain(5);
    rows.splice(1, 1);
    const renumbered = rows.map((r, i) => ({ ...r, seq: i + 1 }));
    expect(walkPartition(0, renumbered).fault).toMatchObject({ kind: "deleted", seq: 2 });
  });

  it("names two swapped records as reordered", () => {
    const rows = chain(5);
    const swapped = [rows[0]!, { ...rows[2]!, seq: 2 }, { ...rows[1]!, seq: 3 }, rows[3]!, rows[4]!];
    const fault = walkPartition(0, swapped).fault;
    expect(fault).toMatchObject({ kind: "reordered", seq: 2, recordId: rows[2]!.id });
    expect(fault?.detail).toContain(rows[1]!.id);
  });

  it("a signed checkpoint catches a deleted tail; a foreign key's signature fails", async () => {
    const rows = chain(4);
    const signer = await checkpointSigner(await generateCheckpointKey());
    const { jws } = await signer.sign([{ partition: 0, count: 4, hash: rows[3]!.hash }], new Date());
    expect((await verifyCheckpoint(jws, signer.publicJwk)).total).toBe(4);
    const source = (rs: StoredRecord[]) => ({
      partitions: () => Promise.resolve([0]),
      rows: () => rs,
      checkpoints: () => Promise.resolve([{ id: 1, jws }]),
    });
    expect((await verifyChains(source(rows), signer.publicJwk)).ok).toBe(true);
    const report = await verifyChains(source(rows.slice(0, 3)), signer.publicJwk);
    expect(report.faults[0]).toMatchObject({ kind: "truncated", partition: 0, seq: 4 });
    const other = await checkpointSigner(await generateCheckpointKey());
    const forged = await verifyChains(source(rows), other.publicJwk);
    expect(forged.faults[0]).toMatchObject({ kind: "checkpoint" });
  });
});

describe("COPY text format, both ways", () => {
  it("escapes what COPY needs and reads it back", () => {
    for (const v of ["plain", "tab\there", "line\nbreak", "back\\slash", "cr\r", ""]) {
      expect(copyField(copyText(v))).toBe(v);
    }
    expect(copyText(null)).toBe("\\N");
    expect(copyField("\\N")).toBeNull();
  });

  it("reads the records' COPY block of a plain pg_dump", async () => {
    const rows = chain(2);
    const cols =
      "partition, seq, kafka_offset, id, time_ms, action, topic, event_id, producer, recipient, grondslag, purpose, fields, reason_code, reason_detail, channel, trace_id, span_id, schema_id, subjects, prev_hash, hash, stored_at";
    const line = (r: StoredRecord) =>
      [
        r.partition,
        r.seq,
        r.kafkaOffset,
        r.id,
        r.time,
        r.action,
        r.topic,
        r.eventId,
        r.producer,
        copyText(r.recipient),
        copyText(r.grondslag),
        copyText(r.purpose),
        JSON.stringify(r.fields),
        "\\N",
        "\\N",
        r.channel,
        r.traceId,
        r.spanId,
        "\\N",
        JSON.stringify(r.subjects),
        r.prevHash,
        r.hash,
        "2026-01-01 00:00:00+00",
      ].join("\t");
    const dump = `-- PostgreSQL database dump\nCOPY audit_x.records (${cols}) FROM stdin;\n${rows.map(line).join("\n")}\n\\.\n`;
    expect(copyBlocks(dump).get("records")).toHaveLength(2);
    const report = await verifyChains(dumpSource(dump), undefined);
    expect(report).toMatchObject({ ok: true, records: 2 });
  });
});

describe("Logboek Dataverwerkingen export", () => {
  it("one entry per record and subject; CSV with a header and one line each", () => {
    const entries = logboekEntries(chain(3));
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({
      traceId: trace.traceId,
      name: "COLLECT",
      statusCode: "OK",
      attributes: { "dpl.core.data_subject_id": "p0", "dpl.core.data_subject_id_type": "bsn" },
    });
    const csv = logboekCsv(entries).trim().split("\r\n");
    expect(csv).toHaveLength(4);
    expect(csv[0]!.split(",")).toContain("dpl.core.processing_activity_id");
  });
});
