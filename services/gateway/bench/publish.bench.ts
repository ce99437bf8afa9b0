// `npm run bench`: the gateway's publish and delivery paths against the real stack, each compared with a baseline
// measured in the same run (raw kafkajs sendBatch of pre-encoded records, acks=all), because these machines are
// noisy and only ratios travel. Bounded: a fixed number of events per phase, loopback only; it stops by itself.
import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { loadCatalogue } from "@grondslag/contracts";
import {
  acquireStack,
  basicAuth,
  CREDENTIALS_FILE,
  databaseUrl,
  kafkaClient,
  waitFor,
} from "@grondslag/infra";
import { applyContracts, readCredential } from "@grondslag/provision";
import { encodeEvent, exampleEvent, loadSchema } from "@grondslag/schemas";
import kafkajs from "kafkajs";
import pino from "pino";
import { createApp } from "../src/app";
import { staticKeyStore } from "../src/auth";
import { ensureDevKeyPair, signToken } from "../src/auth/dev-keys";
import { assertSafeAvro } from "../src/core/avro-guard";
import { canonicalTopic, subjectOf, toWire } from "@grondslag/wire";
import { createGateway, type GatewayConfig } from "../src/gateway";
import type { PublishCommand } from "../src/ports";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";

const N = Number(process.env.BENCH_EVENTS ?? 3000);
const BATCH = 100;
const CONCURRENCY = 32;
const TOPIC = "arbo.accident-reported";
const PARTY = "uitlener.90000001";
const DELIVER_GROUP = "grondslag.gateway.deliver";
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Row {
  name: string;
  events: number;
  ms: number;
}

async function timed(name: string, events: number, run: () => Promise<void>): Promise<Row> {
  log(`  ${name} (${events} events) …`);
  const t0 = performance.now();
  await run();
  return { name, events, ms: performance.now() - t0 };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const chunks = <T>(items: T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

async function main() {
  const stack = await acquireStack(log);
  const { config } = stack;
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-bench-"));
  const admin = kafkaClient(config.kafka).admin();
  const benchTopic = `bench-${crypto.randomBytes(4).toString("hex")}`;
  const rows: Row[] = [];
  try {
    await applyContracts(loadCatalogue(), config, { dryRun: false, credentialsFile: CREDENTIALS_FILE });
    const gatewayConfig: GatewayConfig = {
      brokers: config.kafka.brokers,
      kafkaUser: "grondslag.gateway",
      kafkaPassword: readCredential(CREDENTIALS_FILE, "grondslag.gateway"),
      registryUrl: config.registry.url,
      registryAuth: config.registry.gateway,
      databaseUrl: databaseUrl(config.postgres),
      dbSchema: "gateway",
      pseudonymKey: crypto.randomBytes(32),
      contractsDir: undefined,
    };
    await admin.connect();
    const [group] = (await admin.describeGroups([DELIVER_GROUP])).groups;
    if (group && group.members.length > 0) {
      throw new Error(
        `a gateway is delivering already (npm start?): stop it (npm run infra:down) for a clean measurement`,
      );
    }
    // Publishing runs without the delivery worker, so the delivery phase below measures delivery alone.
    const gateway = createGateway({ ...gatewayConfig, workers: [] }, pino({ level: "warn" }));
    await gateway.start();
    const { privateJwk, publicJwk } = await ensureDevKeyPair(keysDir, PARTY);
    const app = createApp({
      publisher: gateway.publisher,
      subscriptions: gateway.subscriptions,
      readiness: gateway.readiness,
      auth: {
        keyStore: staticKeyStore([{ party: PARTY, keys: [publicJwk] }]),
        audience: "grondslag-gateway",
        issuers: ["grondslag-dev"],
      },
      log: pino({ level: "warn" }),
      now: () => new Date(),
      rateLimit: false,
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise<void>((r) => server.once("listening", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const token = await signToken(privateJwk, {
      party: PARTY,
      issuer: "grondslag-dev",
      audience: "grondslag-gateway",
      ttlSeconds: 3600,
      now: new Date(),
    });
    const run = crypto.randomBytes(4).toString("hex");
    const payload = (i: number) => ({ ...exampleEvent(TOPIC), reportReference: `bench-${run}-${i}` });
    const headers = { Grondslag: "arbowet-art9", Doelbinding: "ongevalsmelding" };
    const command = (i: number, prefix: string): PublishCommand => ({
      topic: TOPIC,
      producer: PARTY,
      grondslag: headers.Grondslag,
      purpose: headers.Doelbinding,
      idempotencyKey: `${prefix}-${run}-${i}`,
      traceparent: undefined,
      payload: payload(i),
      channel: "http",
    });
    const ids = Array.from({ length: N }, (_, i) => i);

    // Warm up every path once (JIT, connections, registry ids, token cache).
    await gateway.publisher.publishBatch(ids.slice(0, BATCH).map((i) => command(i, "warm")));

    log("measuring:");
    await admin.createTopics({ topics: [{ topic: benchTopic, numPartitions: 6 }], waitForLeaders: true });
    const raw = kafkaClient(config.kafka).producer({
      allowAutoTopicCreation: false,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await raw.connect();
    const schemaId = (
      (await (
        await fetch(`${config.registry.url}/subjects/${subjectOf(canonicalTopic(TOPIC))}/versions/latest`, {
          headers: { authorization: basicAuth(config.registry.gateway) },
        })
      ).json()) as { id: number }
    ).id;
    rows.push(
      await timed("baseline: kafkajs sendBatch of pre-encoded records, 100 per call", N, async () => {
        for (const chunk of chunks(ids, BATCH)) {
          await raw.send({
            topic: benchTopic,
            acks: -1,
            messages: chunk.map((i) => ({
              key: "90000001",
              value: toWire(schemaId, encodeEvent(TOPIC, payload(i))),
            })),
          });
        }
      }),
    );
    rows.push(
      await timed("gateway core: publishBatch, 100 per call", N, async () => {
        for (const chunk of chunks(ids, BATCH))
          await gateway.publisher.publishBatch(chunk.map((i) => command(i, "core")));
      }),
    );
    rows.push(
      await timed("HTTP: POST event-batches, 100 per request", N, async () => {
        for (const chunk of chunks(ids, BATCH)) {
          const res = await fetch(`${base}/v1/topics/${TOPIC}/event-batches`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
            body: JSON.stringify({
              events: chunk.map((i) => ({ idempotencyKey: `batch-${run}-${i}`, data: payload(i) })),
            }),
          });
          if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${await res.text()}`);
        }
      }),
    );
    const singles = ids.slice(0, Math.min(N, 1000));
    // The HTTP client shares this process (and 2 cores) with the server: an HTTP baseline in the same run shows
    // what any request costs here, so the gateway's own share of a single publish can be read off.
    rows.push(
      await timed(
        `HTTP baseline: GET /healthz, ${CONCURRENCY} concurrent (client in this process)`,
        singles.length,
        () =>
          pool(singles, CONCURRENCY, async () => {
            const res = await fetch(`${base}/healthz`);
            await res.text();
          }),
      ),
    );
    rows.push(
      await timed(`HTTP: POST events one by one, ${CONCURRENCY} concurrent`, singles.length, () =>
        pool(singles, CONCURRENCY, async (i) => {
          const res = await fetch(`${base}/v1/topics/${TOPIC}/events`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              ...headers,
              "Idempotency-Key": `single-${run}-${i}`,
            },
            body: JSON.stringify(payload(i)),
          });
          if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
        }),
      ),
    );
    // Delivery alone: everything published above waits on the canonical topic; a delivery-only instance projects
    // it for nla and uwv, audits and delivers it. Timed from its first committed progress (after the group join)
    // to lag 0.
    const lagNow = async () => {
      const committed = await admin.fetchOffsets({ groupId: DELIVER_GROUP, topics: [canonicalTopic(TOPIC)] });
      const ends = await admin.fetchTopicOffsets(canonicalTopic(TOPIC));
      return ends.reduce((sum, e) => {
        const at = committed[0]?.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
        return sum + Number(BigInt(e.high) - (at === "-1" ? BigInt(e.low) : BigInt(at)));
      }, 0);
    };
    const backlog = await lagNow();
    const delivery = createGateway({ ...gatewayConfig, workers: ["delivery"] }, pino({ level: "warn" }));
    await delivery.start();
    let first: { at: number; lag: number } | undefined;
    await waitFor(
      "delivery lag 0",
      async () => {
        const lag = await lagNow();
        if (!first && lag < backlog) first = { at: performance.now(), lag };
        return lag === 0 ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 50 },
    );
    const end = performance.now();
    if (first) {
      rows.push({
        name: "delivery worker: project for 2 consumers, audit, deliver, dedupe row, commit",
        events: first.lag,
        ms: end - first.at,
      });
    }
    await delivery.stop();
    // The ingress guard's own cost: one walk of a record (CPU only, no I/O), measured here rather than asserted in
    // a unit test, whose timing would only measure the machine.
    const type = loadSchema(TOPIC);
    const sample = encodeEvent(TOPIC, payload(0));
    rows.push(
      await timed("Avro guard alone: assertSafeAvro on one accident record (CPU only)", 20 * N, () => {
        for (let i = 0; i < 20 * N; i++) assertSafeAvro(type, sample);
        return Promise.resolve();
      }),
    );
    await raw.disconnect();
    await new Promise<void>((r) => server.close(() => r()));
    await gateway.stop();
  } finally {
    await admin.deleteTopics({ topics: [benchTopic] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    fs.rmSync(keysDir, { recursive: true, force: true });
    await stack.release();
  }

  const baseline = rows[0] as Row;
  const rate = (r: Row) => (r.events / r.ms) * 1000;
  process.stdout.write(
    `\nGateway benchmark — ${N} events per phase, ${os.cpus().length} cores, Node ${process.version}\n\n`,
  );
  process.stdout.write(
    `  ${"phase".padEnd(84)} ${"events/s".padStart(9)} ${"ms/event".padStart(9)} ${"× baseline".padStart(10)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `  ${r.name.padEnd(84)} ${rate(r).toFixed(0).padStart(9)} ${(r.ms / r.events).toFixed(3).padStart(9)} ${(rate(r) / rate(baseline)).toFixed(2).padStart(10)}\n`,
    );
  }
  process.stdout.write("\n");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
