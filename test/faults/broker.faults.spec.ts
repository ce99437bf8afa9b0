import { kafkaClient, waitFor, type PrivateStack } from "@grondslag/infra";
import { within } from "@grondslag/infra/test";
import { BatchingProducer, partitionPlanner } from "@grondslag/kit";
import { readCredential } from "@grondslag/provision";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProvisionedStack } from "../src/faults/cluster";

/**
 * Survival, not only recovery: on a private three-node cluster provisioned by contracts:apply (replication 3,
 * min.insync.replicas 2), a party publishes with acks=all under steady load while the leader of a partition it writes
 * to is killed with SIGKILL, five times at random moments. Publishing and delivery go on while it is down; after it
 * is started again on its data, every acknowledged record is in the topic exactly once (by its unique id).
 * Too slow for the int budget (≈2-3 min: three JVMs, provisioning, five restarts); it belongs to the fault suite.
 */
/** Five kills with GRONDSLAG_FAULTS=full (npm run test:faults), two inside npm test. */
const ROUNDS = process.env.GRONDSLAG_FAULTS === "full" ? 5 : 2;
/** Steady load: a send of 20 records every 40 ms (500 records/s), paced so restarts get the CPU they need. */
const BATCH = 20;
const PACE_MS = 40;
/**
 * How the load is written (GRONDSLAG_FAULTS_PRODUCER):
 * - `kit` (default): as the gateway writes, through the kit's BatchingProducer with its partition planner, each
 *   batch's records spread over every partition by key;
 * - `raw-spread`: plain kafkajs `send`s spread over every partition by key, to reproduce kafkajs 2.2.4's loss (below);
 * - `raw-one-partition`: plain kafkajs `send`s, each to one partition (they take turns).
 */
const MODE = (process.env.GRONDSLAG_FAULTS_PRODUCER ?? "kit") as "kit" | "raw-spread" | "raw-one-partition";
if (!["kit", "raw-spread", "raw-one-partition"].includes(MODE))
  throw new Error(`GRONDSLAG_FAULTS_PRODUCER must be kit, raw-spread or raw-one-partition, not ${MODE}`);
/** ingress.<party> has 3 partitions (contracts' plan). */
const PARTITIONS = 3;
const TOPIC = "ingress.uwv";
const PARTY = "uwv";
const progress = (line: string) => process.stderr.write(`[broker-faults] ${line}\n`);

describe(`a three-node cluster survives the loss of any one broker (writes: ${MODE})`, () => {
  let stack: PrivateStack;
  let password: string;

  beforeAll(async () => {
    stack = await startProvisionedStack("broker-faults", 3, progress);
    password = readCredential(stack.credentialsFile, PARTY);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it(`keeps publishing and delivering through ${ROUNDS} kill -9s of a partition leader and loses nothing acknowledged`, async () => {
    const admin = kafkaClient(stack.config.kafka).admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    expect(meta.topics[0]?.partitions).toHaveLength(PARTITIONS);
    for (const p of meta.topics[0]?.partitions ?? []) expect(p.replicas).toHaveLength(3);

    // The party's producer: acks=all (kafkajs' default for send), idempotent so its own retries after a leader's
    // death never write a record twice. kafkajs 2.2.4 drops the records of a send that spans several leaders when one
    // dies and its partitions move to a leader that has already answered (sendMessages keeps that leader's response
    // and re-sends nothing to it): send() resolves, the records are not stored. Seen here with `raw-spread`: 13 of
    // 122,140 and 19 of 123,240 acknowledged records lost over five kills (tulios/kafkajs#1303, open). The kit's
    // planner sends each partition's records as a request of its own, whose retry goes whole to the new leader.
    const producer = kafkaClient(stack.config.kafka, { name: PARTY, password }, { retries: 20 }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const consumer = kafkaClient(stack.config.kafka, undefined, { retries: 20 }).consumer({
      groupId: `proof-${Date.now()}`,
    });
    await producer.connect();
    const partyAdmin = kafkaClient(stack.config.kafka, { name: PARTY, password }).admin();
    await partyAdmin.connect();
    const batching = new BatchingProducer(producer, {
      lingerMs: 2,
      maxMessages: 1000,
      partitions: partitionPlanner(() => partyAdmin),
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });

    const acked: string[] = [];
    /** Each acknowledged send: when it started and when its acknowledgement came. */
    const sends: { start: number; end: number }[] = [];
    const failed: string[] = [];
    const delivered = new Map<string, number>();
    let seq = 0;
    let stopping = false;
    let lastError = "";
    await consumer.run({
      eachMessage: ({ message }) => {
        const id = message.value?.toString() ?? "";
        delivered.set(id, (delivered.get(id) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    const load = (async () => {
      const t0 = Date.now();
      for (let k = 0; !stopping; k++) {
        const wait = t0 + k * PACE_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const ids = Array.from({ length: BATCH }, () => `r-${String(++seq).padStart(7, "0")}`);
        const start = Date.now();
        try {
          if (MODE === "kit")
            await batching.send(ids.map((id) => ({ topic: TOPIC, message: { key: id, value: id } })));
          else
            await producer.send({
              topic: TOPIC,
              acks: -1,
              messages: ids.map((id) =>
                MODE === "raw-spread"
                  ? { key: id, value: id }
                  : { partition: k % PARTITIONS, key: id, value: id },
              ),
            });
          acked.push(...ids);
          sends.push({ start, end: Date.now() });
        } catch (err) {
          // Not acknowledged: these ids may or may not be stored, but never twice. New ids from here.
          failed.push(...ids);
          lastError = (err as Error).message;
        }
      }
    })();
    const ackedCount = async (n: number, what: string, timeoutMs = 60_000) =>
      waitFor(what, () => Promise.resolve(acked.length >= n ? true : undefined), {
        timeoutMs,
        intervalMs: 20,
      });
    const deliveredId = async (id: string, what: string, timeoutMs = 60_000) =>
      waitFor(what, () => Promise.resolve(delivered.has(id) ? true : undefined), {
        timeoutMs,
        intervalMs: 20,
      });

    const rounds: {
      node: number;
      stallMs: number;
      downAcked: number;
      recoverMs: number;
      inSyncMs: number;
    }[] = [];
    try {
      await ackedCount(200, "the load's first records");
      for (let round = 1; round <= ROUNDS; round++) {
        // A random moment: after a random number (100-600) of further acknowledged records.
        await ackedCount(
          acked.length + 100 + Math.floor(Math.random() * 500),
          `round ${round}: load before the kill`,
        );
        const partition = Math.floor(Math.random() * PARTITIONS);
        const leader = (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics[0]?.partitions.find(
          (p) => p.partitionId === partition,
        )?.leader;
        if (leader === undefined || leader < 0) throw new Error(`no leader for ${TOPIC}:${partition}`);
        const victim = stack.brokerIndex(leader);
        const before = acked.length;
        const killedAt = Date.now();
        await stack.killBroker(victim);
        // Survival: with the leader gone, the party's writes are acknowledged (by 2 in-sync replicas) and delivered.
        await ackedCount(before + 400, `round ${round}: 400 writes acknowledged with node ${leader} down`);
        const downAcked = acked.length - before;
        // The longest a write took around the kill: how long the dead leader's partitions had none.
        const stallMs = Math.max(
          ...sends.filter((x) => x.end >= killedAt).map((x) => x.end - Math.max(x.start, killedAt)),
        );
        await deliveredId(acked[acked.length - 1] ?? "", `round ${round}: delivery with node ${leader} down`);
        expect(stack.brokerPids()[victim]).toBeUndefined();
        const restartAt = Date.now();
        await stack.startBroker(victim);
        const recoverMs = Date.now() - restartAt;
        const inSyncMs = recoverMs + (await stack.waitInSync());
        rounds.push({ node: leader, stallMs, downAcked, recoverMs, inSyncMs });
        progress(
          `round ${round}: killed node ${leader} (leader of ${TOPIC}:${partition}) at a random moment; longest write ` +
            `${stallMs} ms, then ${downAcked} acknowledged and delivered with it down; started again: registered ` +
            `after ${recoverMs} ms, every replica in sync after ${inSyncMs} ms`,
        );
      }
    } finally {
      stopping = true;
      await load;
      await batching.drain();
      await producer.disconnect();
      await partyAdmin.disconnect();
    }

    // Every acknowledged record reaches the live consumer (at least once: a coordinator's death may replay a little)…
    const undelivered = () => acked.filter((id) => !delivered.has(id));
    await waitFor(
      "every acknowledged record delivered",
      () => Promise.resolve(undelivered().length === 0 ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    ).catch(() => undefined);
    const notDelivered = undelivered();
    await consumer.disconnect();

    // …and is in the topic exactly once: a fresh read of all of it, from the beginning to its end offsets.
    const stored = await readAll(stack, TOPIC);
    const twice = [...stored].filter(([, n]) => n > 1).map(([id]) => id);
    const lost = acked.filter((id) => stored.get(id) !== 1);
    progress(
      `${acked.length} acknowledged, ${failed.length} refused (${lastError || "none"}), ${stored.size} distinct stored, ` +
        `${notDelivered.length} not delivered to the live group (first: ${notDelivered.slice(0, 3).join(", ")}), ` +
        `${[...delivered.values()].filter((n) => n > 1).length} delivered to it more than once`,
    );
    const times = (k: "stallMs" | "recoverMs" | "inSyncMs") => rounds.map((r) => r[k]).sort((a, b) => a - b);
    progress(
      `longest write around a kill ${times("stallMs").join(", ")} ms; restarted node registered after ` +
        `${times("recoverMs").join(", ")} ms; every replica in sync after ${times("inSyncMs").join(", ")} ms`,
    );
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(notDelivered).toEqual([]);
    expect(rounds).toHaveLength(ROUNDS);
    for (const r of rounds) expect(r.downAcked).toBeGreaterThanOrEqual(400);
    await admin.disconnect();
  }, 600_000);
});

/** How often each id is stored in `topic`: a fresh group reads it from the beginning to the end offsets of now. */
async function readAll(stack: PrivateStack, topic: string): Promise<Map<string, number>> {
  const client = kafkaClient(stack.config.kafka);
  const admin = client.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(
    ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]),
  );
  const counts = new Map<string, number>();
  const consumer = client.consumer({ groupId: `proof-read-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    if (remaining.size === 0) resolve();
    consumer
      .run({
        eachMessage: ({ partition, message }) => {
          const high = remaining.get(partition);
          if (high === undefined || BigInt(message.offset) >= high) return Promise.resolve();
          const id = message.value?.toString() ?? "";
          counts.set(id, (counts.get(id) ?? 0) + 1);
          if (BigInt(message.offset) + 1n >= high) remaining.delete(partition);
          if (remaining.size === 0) resolve();
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await within(60_000, `reading ${topic} to its end`, done).finally(() => consumer.disconnect());
  return counts;
}
