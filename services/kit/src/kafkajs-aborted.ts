// kafkajs (2.2.4) hands read_committed consumers records of aborted transactions when two of them interleave on a
// partition. Its filter (`kafkajs/src/consumer/filterAbortedMessages.js`) takes the broker's list of aborted
// transactions as if ordered by first offset (the broker lists them in the order they were aborted) and starts
// skipping one transaction per record read, so a record of the second is let through when the fetch begins inside
// both. Seen in CI as 38 ingress events read twice from a canonical topic after a broker of three died (two gateways'
// transactions aborted in the outage); shown on the real broker by `kafkajs-aborted.int.spec.ts`.
//
// This module puts a correct filter in kafkajs' place. It must be evaluated before kafkajs is first loaded (its
// batch module keeps the filter it finds then): the kit's `kafka.ts` imports it ahead of kafkajs, and the test setup
// does so for every spec. `kafkajsAbortedFilterInForce()` tells whether it took.
import { patchKafkajsModule } from "./kafkajs-patch";

/** A transaction the broker lists as aborted in a fetch response (kafkajs decodes both as strings). */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** The parts of a kafkajs record the filter reads. */
export interface FetchedRecord {
  offset: string;
  key?: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId?: unknown; inTransaction?: boolean };
}

/** A control record's key: version 0 (int16), then its type (int16): 0 is an abort marker, 1 a commit marker. */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

const isAbortMarker = (m: FetchedRecord) =>
  m.isControlRecord === true && m.key != null && Buffer.from(m.key).equals(ABORT_MARKER_KEY);

/**
 * The records of `messages` (in offset order, as one fetch returns them) that belong to no aborted transaction,
 * control records kept (kafkajs drops them after this). A producer's transaction is aborted from its first offset
 * up to its abort marker; every listed transaction whose first offset a record has reached is in force, in
 * first-offset order, whatever order the broker listed them in.
 */
export function filterAbortedMessages<M extends FetchedRecord>({
  messages,
  abortedTransactions,
}: {
  messages: M[];
  abortedTransactions?: AbortedTransaction[] | null;
}): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborting = new Set<string>();
  let next = 0;
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    while (next < pending.length && pending[next]!.firstOffset <= offset)
      aborting.add(pending[next++]!.producerId);
    const producerId = String(m.batchContext?.producerId);
    if (isAbortMarker(m)) {
      aborting.delete(producerId);
      return true;
    }
    return !(m.batchContext?.inTransaction === true && aborting.has(producerId));
  });
}

const patch = patchKafkajsModule({
  name: "grondslag.kit.filterAbortedMessages",
  // `require('./filterAbortedMessages')` in kafkajs' batch module gets ours.
  module: "kafkajs/src/consumer/filterAbortedMessages.js",
  dependent: "kafkajs/src/consumer/batch.js",
  replacement: filterAbortedMessages,
  warning:
    "kafkajs was loaded before @grondslag/kit: its read_committed consumers may hand out records of aborted " +
    "transactions. Import @grondslag/kit (or its kafkajs-aborted module) before kafkajs.",
  code: "GRONDSLAG_KAFKAJS_ABORTED",
});

/** Whether kafkajs' consumers in this process skip aborted transactions correctly (see above). */
export function kafkajsAbortedFilterInForce(): boolean {
  return patch.inForce();
}
