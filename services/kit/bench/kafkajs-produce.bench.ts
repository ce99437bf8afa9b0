// `npm run bench:kafkajs`: the kit's produce path (kafkajs-produce.ts) against kafkajs' own, in the same process and
// run, on a flush like the gateway's (1,008 records of a canonical event's size and headers, 2 topics × 6
// partitions). Prints the median of five rounds of each and the ratio; no broker needed, nothing asserted.
import "../src/index";
import crypto from "node:crypto";
import kafkajs from "kafkajs";
import {
  createPartitioner,
  groupMessagesPerPartition,
  kafkajsOwnProduce,
  produceRequest,
} from "../src/kafkajs-produce";

const own = kafkajsOwnProduce();
if (!own.request || !own.group) throw new Error("the kit's produce path is not in force: nothing to compare");
const ownRequest = own.request;
const ownGroup = own.group;

const record = (i: number) => ({
  key: String(90_000_000 + (i % 997)),
  value: crypto.randomBytes(230),
  headers: {
    "grondslag-event-id": crypto.randomUUID(),
    "grondslag-topic": "arbo.accident-reported",
    "grondslag-producer": "uitlener.90000001",
    "grondslag-grondslag": "arbowet-art-9",
    "grondslag-purpose": "toezicht-arbeidsomstandigheden",
    traceparent: `00-${crypto.randomBytes(16).toString("hex")}-${crypto.randomBytes(8).toString("hex")}-01`,
  },
});
const PARTITIONS = 6;
const PER_PARTITION = 84;
const args = {
  acks: -1,
  timeout: 30_000,
  transactionalId: "grondslag.gateway.tx.bench",
  producerEpoch: 0,
  topicData: ["events.arbo.accident-reported", "audit.log"].map((topic) => ({
    topic,
    partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
      partition,
      firstSequence: 0,
      messages: Array.from({ length: PER_PARTITION }, (_, i) => record(partition * PER_PARTITION + i)),
    })),
  })),
};
const records = 2 * PARTITIONS * PER_PARTITION;
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
  partitionId,
  leader: 0,
  replicas: [0],
  isr: [0],
  partitionErrorCode: 0,
}));
const messages = args.topicData.flatMap((t) => t.partitions.flatMap((p) => p.messages));

async function median(label: string, f: () => unknown, rounds = 5, each = 200): Promise<number> {
  for (let i = 0; i < each; i++) await f();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < each; i++) await f();
    times.push(Number(process.hrtime.bigint() - t0) / each / 1_000);
  }
  times.sort((a, b) => a - b);
  const m = times[Math.floor(rounds / 2)]!;
  console.log(`  ${label.padEnd(58)} ${m.toFixed(0).padStart(7)} µs`);
  return m;
}

console.log(`kafkajs produce path, per flush of ${records} records (median of 5 rounds):`);
const theirEncode = await median("kafkajs' produce request (records by the kit's encoder)", () =>
  ownRequest(args).encode(),
);
const ourEncode = await median("the kit's produce request", () => produceRequest(args).encode());
const theirPartitioner = kafkajs.Partitioners.DefaultPartitioner();
const ourPartitioner = createPartitioner();
const group = { topic: "t", partitionMetadata, messages };
const theirGroup = await median("kafkajs' grouping by partition and default partitioner", () =>
  ownGroup({ ...group, partitioner: theirPartitioner } as never),
);
const ourGroup = await median("the kit's grouping and createPartitioner", () =>
  groupMessagesPerPartition({ ...group, partitioner: ourPartitioner } as never),
);
console.log(
  `  produce request ${(theirEncode / ourEncode).toFixed(2)}× faster, grouping ${(theirGroup / ourGroup).toFixed(1)}× faster`,
);
console.log(
  `  together ${(theirEncode + theirGroup).toFixed(0)} µs → ${(ourEncode + ourGroup).toFixed(0)} µs a flush ` +
    `(${((theirEncode + theirGroup) / records).toFixed(2)} → ${((ourEncode + ourGroup) / records).toFixed(2)} µs a record)`,
);
