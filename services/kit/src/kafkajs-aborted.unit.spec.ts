import { describe, expect, it } from "vitest";
import { filterAbortedMessages, type FetchedRecord } from "./kafkajs-aborted";

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const rec = (offset: number, producerId: string, txn = true): FetchedRecord & { v: string } => ({
  offset: String(offset),
  key: Buffer.from("k"),
  batchContext: { producerId, inTransaction: txn },
  v: `${producerId}${offset}`,
});
const marker = (offset: number, producerId: string, key: Buffer) => ({
  offset: String(offset),
  key,
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
  v: `marker-${producerId}`,
});
const kept = (
  messages: (FetchedRecord & { v: string })[],
  aborted: { producerId: string; firstOffset: string }[],
) =>
  filterAbortedMessages({ messages, abortedTransactions: aborted })
    .filter((m) => !m.isControlRecord)
    .map((m) => m.v);

describe("filterAbortedMessages (in kafkajs' place)", () => {
  // The partition the real broker gave (kafkajs-aborted.int.spec.ts): A and B interleaved, both aborted, then a
  // committed record. kafkajs' own filter let a1, a2 or a3 (B aborted first) or b1, b2 (A first) through.
  const log = [
    rec(0, "A"),
    rec(1, "B"),
    rec(2, "A"),
    rec(3, "B"),
    rec(4, "A"),
    marker(5, "A", ABORT),
    marker(6, "B", ABORT),
    rec(7, "P", false),
  ];
  const aFirst = [
    { producerId: "A", firstOffset: "0" },
    { producerId: "B", firstOffset: "1" },
  ];
  for (const [order, listed] of [
    ["A's abort first", aFirst],
    ["B's abort first (the list not in first-offset order)", [...aFirst].reverse()],
  ] as const) {
    it(`hides both aborted transactions from every fetch start, ${order}`, () => {
      for (let start = 0; start <= 7; start++) {
        expect(kept(log.slice(start), [...listed]), `from offset ${start}`).toEqual(["P7"]);
      }
    });
  }

  it("keeps committed and non-transactional records, and a transaction aborted again later", () => {
    const messages = [
      rec(10, "A"),
      marker(11, "A", ABORT),
      rec(12, "A"),
      marker(13, "A", COMMIT),
      rec(14, "N", false),
      rec(15, "A"),
      marker(16, "A", ABORT),
      rec(17, "A"),
    ];
    const aborted = [
      { producerId: "A", firstOffset: "15" },
      { producerId: "A", firstOffset: "10" },
    ];
    expect(kept(messages, aborted)).toEqual(["A12", "N14", "A17"]);
  });

  it("takes only a control record for an abort marker, and passes everything when nothing was aborted", () => {
    // A data record whose key happens to be four zero bytes does not end the transaction it is in.
    const lookalike = { ...rec(21, "A"), key: Buffer.from(ABORT) };
    expect(kept([rec(20, "A"), lookalike, rec(22, "A")], [{ producerId: "A", firstOffset: "20" }])).toEqual(
      [],
    );
    const all = [rec(1, "A"), rec(2, "B")];
    expect(filterAbortedMessages({ messages: all, abortedTransactions: [] })).toBe(all);
  });
});
