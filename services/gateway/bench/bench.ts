// `npm run bench`: every path of the gateway against its raw twin, in one run, on the real stack (loopback only).
// Each phase runs on a backlog of BENCH_EVENTS events (default 20,000) so the JIT and the broker settle; the
// gateway is a process of its own (`main.ts`, configured by its environment), so its RSS and CPU time are its own,
// and the HTTP load generator (autocannon) is a third process. Only ratios measured in the same run travel between
// machines: the table gives events/s, ms/event, × its twin and × the physical limit (Kafka's own Java producer on
// the same broker). Writes results.json and ratios.svg to BENCH_OUT (default services/gateway/bench/results).
// See services/gateway/bench/README.md.
// First: the kit puts its kafkajs fixes in place (the read_committed filter, the record encoder) before kafkajs loads.
import "@grondslag/kit";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { deliveryDecision, loadCatalogue } from "@grondslag/contracts";
import {
  acquireStack,
  adminClientProperties,
  CREDENTIALS_FILE,
  databaseUrl,
  ensureKafkaJars,
  kafkaClasspath,
  kafkaClient,
  type StackConfig,
} from "@grondslag/infra";
import { startGroupAt, type Offsets } from "@grondslag/infra/test";
import {
  AUDIT_RECORD_SCHEMA,
  AUDIT_SUBJECT,
  auditRecord,
  batchWorker,
  BatchingProducer,
  createPartitioner,
  encodeAuditRecord,
  SchemaIds,
  type TopicMessage,
} from "@grondslag/kit";
import { applyContracts } from "@grondslag/provision";
import { encodeEvent, exampleEvent, isTopic, rawSchema, type Topic } from "@grondslag/schemas";
import {
  BUS_HEADERS as H,
  canonicalTopic,
  deliveryTopic,
  ingressTopic,
  INGRESS_HEADERS,
  rejectedTopic,
  subjectOf,
  toWire,
} from "@grondslag/wire";
import type { Admin, Message, Producer } from "kafkajs";
import pg from "pg";
import { startChildGateway, type ChildGateway } from "../src/core/child-gateway";
import type { GatewayWorker } from "../src/gateway";
import type { LoadResult, LoadSpec } from "./loadgen";
import { chart, table, type BenchReport, type BenchRow, type Flood } from "./report";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 8);
const FLOOD = Number(process.env.BENCH_FLOOD_EVENTS ?? N);
const OUT = process.env.BENCH_OUT ?? path.join(HERE, "results");
const PHASES = new Set(
  (process.env.BENCH_PHASES ?? "physical,ingress,fanout,http,audit,flood").split(",").map((s) => s.trim()),
);
/** Node options for every gateway process of the run (e.g. `--max-semi-space-size=32`), split at spaces. */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
/** `--cpu-prof` for the gateway processes, written to BENCH_PROFILE_DIR (a profile per phase). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const PARTY = "uitlener.90000001";
const TOPIC: Topic = "arbo.accident-reported";
const GRONDSLAG = "meld-vergewisplicht-uitleners";
const PURPOSE = "ongevalsmelding";
/** The rate limit the HTTP phases run under: the gateway's own token bucket, set by its environment. */
const RATE = { perSecond: 1_000_000, burst: 1_000_000 };
const run = crypto.randomBytes(3).toString("hex");
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------- offsets

async function ends(admin: Admin, topics: string[]): Promise<Offsets> {
  const out: Offsets = {};
  for (const t of topics) {
    out[t] = (await admin.fetchTopicOffsets(t)).map((e) => ({ partition: e.partition, offset: e.high }));
  }
  return out;
}

async function lagOf(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  let lag = 0;
  for (const t of topics) {
    const c = committed.find((x) => x.topic === t);
    for (const e of await admin.fetchTopicOffsets(t)) {
      const at = c?.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
      lag += Number(BigInt(e.high) - (at === "-1" ? BigInt(e.low) : BigInt(at)));
    }
  }
  return lag;
}

const growth = (before: Offsets, after: Offsets, topic: string) =>
  (after[topic] ?? []).reduce(
    (n, e) =>
      n +
      Number(BigInt(e.offset) - BigInt(before[topic]?.find((b) => b.partition === e.partition)?.offset ?? 0)),
    0,
  );

/** Resources of the gateway's process over a phase: peak RSS (sampled every 100 ms) and CPU seconds. */
function sampler(child: ChildGateway | undefined) {
  let peak = child?.rssMb() ?? 0;
  const timer = child
    ? setInterval(() => {
        if (!child.exited()) peak = Math.max(peak, child.rssMb());
      }, 100)
    : undefined;
  let cpu0 = child?.cpuSeconds() ?? 0;
  return {
    restart: () => (cpu0 = child?.cpuSeconds() ?? 0),
    stop: () => {
      if (timer) clearInterval(timer);
      return child
        ? { rssPeakMb: Math.max(peak, child.rssMb()), cpuSeconds: child.cpuSeconds() - cpu0 }
        : undefined;
    },
  };
}

/**
 * A consumer group draining a backlog: timed from its first committed progress (the group's join is not
 * throughput) to lag 0; the events counted are those still waiting at that first progress.
 */
async function drain(
  admin: Admin,
  groupId: string,
  topics: string[],
  child: ChildGateway | undefined,
  timeoutMs = 300_000,
) {
  const backlog = await lagOf(admin, groupId, topics);
  const deadline = Date.now() + timeoutMs;
  const res = sampler(child);
  const t0 = performance.now();
  let first: { at: number; lag: number } | undefined;
  for (;;) {
    const lag = await lagOf(admin, groupId, topics);
    if (!first && lag < backlog) {
      // A backlog drained before any progress was seen (a short run) is timed from the start, join included.
      if (lag === 0) first = { at: t0, lag: backlog };
      else {
        first = { at: performance.now(), lag };
        res.restart();
      }
    }
    if (lag === 0) break;
    if (child?.exited()) throw new Error(`the gateway exited: ${child.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`${groupId}: ${lag} of ${backlog} still waiting after ${timeoutMs} ms`);
    await sleep(20);
  }
  const end = performance.now();
  const resources = res.stop();
  if (!first) throw new Error(`${groupId}: nothing to drain`);
  return { events: first.lag, ms: end - first.at, resources };
}

// ------------------------------------------------------------------------------------------------ loading data

async function load(producer: Producer, topic: string, messages: Message[]) {
  const chunks: Message[][] = [];
  for (let i = 0; i < messages.length; i += 2000) chunks.push(messages.slice(i, i + 2000));
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        if (chunk) await producer.send({ topic, acks: -1, messages: chunk });
      }
    }),
  );
}

const payload = (topic: Topic, i: number) => {
  const e = { ...(exampleEvent(topic) as object) } as Record<string, unknown>;
  for (const k of ["reportReference", "signalReference", "accidentReportReference"]) {
    if (typeof e[k] === "string") e[k] = `B-${run}-${i}`;
  }
  return e;
};

// ------------------------------------------------------------------------------------------------- raw twins

/**
 * The raw twin of a worker: kafkajs consume → produce, the same kit worker (batches per partition, offsets
 * committed after the write, one partition at a time) and the same batching producer (2 ms linger, 1000 records a flush, acks=all), the
 * same number of records per event, and none of the gateway's work (no decoding, checks, audit or database).
 */
async function twin(
  config: StackConfig,
  admin: Admin,
  opts: { source: string; from: Offsets; out: string; recordsPerEvent: number; transactional?: boolean },
) {
  const kafka = kafkaClient(config.kafka, undefined, { clientId: "bench-twin" });
  const groupId = `bench-twin-${run}-${crypto.randomBytes(2).toString("hex")}`;
  await startGroupAt(config, groupId, { [opts.source]: opts.from[opts.source] ?? [] });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner,
    ...(opts.transactional
      ? { transactionalId: `bench-twin-${groupId}`, idempotent: true, maxInFlightRequests: 1 }
      : {}),
  });
  await producer.connect();
  const batching = new BatchingProducer(producer, {
    lingerMs: 2,
    maxMessages: 1000,
    transactional: opts.transactional ?? false,
  });
  // The gateway's worker settings (gateway.ts): one partition at a time, 256 KiB fetched per partition.
  const worker = batchWorker({
    consumer: kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 256 * 1024 }),
    partitionsConcurrently: 1,
    handle: async (batch) => {
      const out: TopicMessage[] = [];
      for (const m of batch.messages) {
        for (let i = 0; i < opts.recordsPerEvent; i++) {
          out.push({ topic: opts.out, message: { key: m.key, value: m.value, headers: m.headers } });
        }
      }
      await batching.send(out);
    },
    poison: () => Promise.resolve(),
  });
  await worker.start([opts.source]);
  try {
    return await drain(admin, groupId, [opts.source], undefined);
  } finally {
    await worker.stop();
    await producer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------- external processes

function spawnJson<T>(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}${out}`));
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${cmd} printed no JSON: ${out}${err}`));
      }
    });
  });
}

const LOADGEN = path.join(HERE, "loadgen.ts");
/** Runs the load generator on `spec` (handed over in a file: a batch body is too long for an argument). */
async function load$(spec: LoadSpec): Promise<LoadResult> {
  const file = path.join(
    os.tmpdir(),
    `grondslag-bench-load-${run}-${crypto.randomBytes(3).toString("hex")}.json`,
  );
  fs.writeFileSync(file, JSON.stringify(spec), { mode: 0o600 });
  try {
    return await spawnJson<LoadResult>(process.execPath, ["--import", "tsx", LOADGEN, file]);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Kafka's own Java producer (ProducerPerformance from the fetched jars) as the super user: the physical limit. */
async function javaProducerPerformance(config: StackConfig, topic: string, records: number, size: number) {
  const { file, cleanup } = adminClientProperties(config.kafka, ["acks=all"]);
  await ensureKafkaJars(() => {});
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        "java",
        [
          "-Xmx512m",
          "-cp",
          kafkaClasspath(),
          "org.apache.kafka.tools.ProducerPerformance",
          "--topic",
          topic,
          "--num-records",
          String(records),
          "--record-size",
          String(size),
          "--throughput",
          "-1",
          "--producer.config",
          file,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let text = "";
      child.stdout.on("data", (d: Buffer) => (text += d.toString()));
      child.stderr.on("data", (d: Buffer) => (text += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(text);
        else reject(new Error(`ProducerPerformance exited ${code}: ${text.slice(-2000)}`));
      });
    });
    // The last line: "N records sent, R records/sec (M MB/sec), A ms avg latency, …"
    const m = /(\d+) records sent, ([\d.]+) records\/sec[^\n]*?([\d.]+) ms avg latency[^\n]*/g;
    let last: RegExpExecArray | null = null;
    for (let x = m.exec(output); x; x = m.exec(output)) last = x;
    if (!last) throw new Error(`ProducerPerformance printed no summary: ${output.slice(-2000)}`);
    return { records: Number(last[1]), perSecond: Number(last[2]), line: last[0] };
  } finally {
    cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------- phases

async function main() {
  const stack = await acquireStack(log);
  const { config } = stack;
  const started = performance.now();
  const load0 = os.loadavg();
  const kafka = kafkaClient(config.kafka, undefined, { clientId: "bench" });
  const admin = kafka.admin();
  await admin.connect();
  const loader = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner,
  });
  await loader.connect();
  const scratch: string[] = [];
  const scratchTopic = async (name: string, partitions: number) => {
    const topic = `bench-${name}-${run}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    scratch.push(topic);
    return topic;
  };
  const children: ChildGateway[] = [];
  const gateway = async (name: string, workers: GatewayWorker[], env: Record<string, string>) => {
    const child = await startChildGateway(config, CREDENTIALS_FILE, {
      workers,
      env: {
        GATEWAY_RATE_PER_SECOND: String(RATE.perSecond),
        GATEWAY_RATE_BURST: String(RATE.burst),
        ...env,
      },
      nodeArgs: [
        ...GATEWAY_NODE_ARGS,
        ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${path.join(PROFILE_DIR, name)}`] : []),
      ],
    });
    children.push(child);
    return child;
  };
  const rows: BenchRow[] = [];
  const extra: BenchReport["extra"] = {};
  // Every publish writes the idempotency table twice: its rows, and the dead ones its settling leaves, shape the
  // figures (run after run they fell by more than half with autovacuum off, until the gateway vacuumed it itself).
  const idempotencyRows = async () => {
    const c = new pg.Client({ connectionString: databaseUrl(config.postgres) });
    await c.connect();
    try {
      const { rows: r } = await c.query<{ live: string; dead: string }>(
        `SELECT n_live_tup AS live, n_dead_tup AS dead FROM pg_stat_user_tables
          WHERE schemaname = 'gateway' AND relname = 'idempotency'`,
      );
      return { live: Number(r[0]?.live ?? 0), dead: Number(r[0]?.dead ?? 0) };
    } finally {
      await c.end();
    }
  };
  extra.idempotencyAtStart = await idempotencyRows().catch(() => undefined);
  let failed: unknown;
  const ratesOf = (r: { events: number; ms: number }) => (r.events / r.ms) * 1000;
  try {
    log(`bench ${run}: ${N} events per phase; load average ${load0.map((x) => x.toFixed(2)).join(" ")}`);
    await applyContracts(loadCatalogue(), config, { dryRun: false, credentialsFile: CREDENTIALS_FILE });
    const ids = new SchemaIds(config.registry.url, config.registry.gateway);
    const auditId = await ids.idOf(AUDIT_SUBJECT, AUDIT_RECORD_SCHEMA);
    const idOf = (t: Topic) => ids.idOf(subjectOf(canonicalTopic(t)), rawSchema(t));
    const sampleEvent = toWire(await idOf(TOPIC), encodeEvent(TOPIC, payload(TOPIC, 0) as never));
    const sampleAudit = encodeAuditRecord(
      auditRecord({
        action: "COLLECT",
        topic: TOPIC,
        eventId: crypto.randomUUID(),
        producer: PARTY,
        grondslag: GRONDSLAG,
        purpose: PURPOSE,
        fields: ["victim.bsn", "subjectKvk", "inlener.kvk"],
        channel: "kafka",
        trace: {
          traceId: crypto.randomBytes(16).toString("hex"),
          spanId: crypto.randomBytes(8).toString("hex"),
        },
        time: new Date(),
        subjects: [{ type: "bsn", pseudonym: crypto.randomBytes(32).toString("base64url") }],
      }),
      auditId,
    );
    const recordSize = Math.round((sampleEvent.length + sampleAudit.length) / 2);
    extra.recordSize = recordSize;

    // 5. The physical limit, and kafkajs' own ceiling on the same records.
    if (PHASES.has("physical")) {
      const topic = await scratchTopic("physical", 6);
      log("physical limit: Kafka's Java producer (ProducerPerformance), acks=all …");
      const j = await javaProducerPerformance(config, topic, Math.max(5 * N, 10_000), recordSize);
      rows.push({
        id: "physical",
        name: `Kafka's Java producer, ${recordSize}-byte records, acks=all (records/s)`,
        events: j.records,
        ms: (j.records / j.perSecond) * 1000,
        recordsPerEvent: 1,
      });
      log("raw kafkajs producer: sendBatch of pre-encoded records …");
      const raw = kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner,
      });
      await raw.connect();
      const value = Buffer.alloc(recordSize, 7);
      const count = Math.max(2 * N, 4000);
      const t0 = performance.now();
      for (let i = 0; i < count; i += 1000) {
        await raw.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 1000 }, (_, k) => ({ key: String((i + k) % 97), value })),
        });
      }
      rows.push({
        id: "kafkajs",
        name: "kafkajs producer alone: send of 1000 pre-encoded records, one at a time (records/s)",
        events: count,
        ms: performance.now() - t0,
        recordsPerEvent: 1,
      });
      await raw.disconnect();
    }

    // 1. Kafka-native ingress against its raw pipe.
    if (PHASES.has("ingress")) {
      const topic = ingressTopic(PARTY);
      const canonical = canonicalTopic(TOPIC);
      const start = await ends(admin, [topic, canonical, rejectedTopic(PARTY)]);
      const schemaId = await idOf(TOPIC);
      log(`ingress: loading ${N} records into ${topic} …`);
      await load(
        loader,
        topic,
        Array.from({ length: N }, (_, i) => {
          const e = payload(TOPIC, i);
          return {
            key: String(e.subjectKvk),
            value: toWire(schemaId, encodeEvent(TOPIC, e as never)),
            headers: {
              [INGRESS_HEADERS.topic]: TOPIC,
              [INGRESS_HEADERS.grondslag]: GRONDSLAG,
              [INGRESS_HEADERS.purpose]: PURPOSE,
              [INGRESS_HEADERS.idempotencyKey]: `bench-${run}-${i}`,
            },
          };
        }),
      );
      const out = await scratchTopic("twin-ingress", 6);
      log("ingress twin: raw consume → produce, 2 records per event …");
      const t = await twin(config, admin, { source: topic, from: start, out, recordsPerEvent: 2 });
      rows.push({
        id: "ingress-twin",
        name: "twin: raw kafkajs pipe, 2 records per event",
        ...t,
        recordsPerEvent: 2,
      });
      log("ingress twin, transactional: the same pipe, one Kafka transaction per flush …");
      const tt = await twin(config, admin, {
        source: topic,
        from: start,
        out,
        recordsPerEvent: 2,
        transactional: true,
      });
      rows.push({
        id: "ingress-twin-tx",
        name: "twin: the same pipe, one Kafka transaction per flush",
        ...tt,
        recordsPerEvent: 2,
      });
      log("ingress: the gateway (ingress worker only) …");
      const prefix = `grondslag.gateway.bench-${run}-in`;
      await startGroupAt(config, `${prefix}.ingress`, { [topic]: start[topic] ?? [] });
      const child = await gateway("ingress", ["ingress"], {
        GATEWAY_GROUP_PREFIX: prefix,
        GATEWAY_INGRESS_PARTIES: PARTY,
      });
      const g = await drain(admin, `${prefix}.ingress`, [topic], child);
      const after = await ends(admin, [canonical, rejectedTopic(PARTY)]);
      const accepted = growth(start, after, canonical);
      const refused = growth(start, after, rejectedTopic(PARTY));
      // Other writers may share the stack (the smoke spec's neighbours in npm test): only a shortfall is ours.
      if (accepted < N) {
        throw new Error(
          `ingress accepted ${accepted} of ${N} (${refused} refused): the bench's records are wrong`,
        );
      }
      await child.stop();
      rows.push({
        id: "ingress",
        name: "Kafka ingress: check, canonical event + COLLECT in one transaction, idempotency row",
        ...g,
        recordsPerEvent: 2,
        twin: "ingress-twin",
        goal: { twin: 0.75 },
      });
    }

    // 2. Fan-out: the delivery worker for topics whose events go to 1, 2 and 5 consumers.
    if (PHASES.has("fanout")) {
      const catalogue = loadCatalogue();
      const now = new Date();
      const fanouts = [1, 2, 5].map((k) => {
        const order: Topic[] = ["arbo.return-verified", "arbo.accident-reported", "lsi.signal-raised"];
        const pick = [...order, ...(Object.keys(catalogue.topics) as Topic[])].find(
          (t) =>
            isTopic(t) && deliveryDecision(catalogue, t, exampleEvent(t) as never, now, now).length === k,
        );
        if (!pick) throw new Error(`no topic whose example event goes to ${k} consumers`);
        return { k, topic: pick };
      });
      const allCanonical = (Object.keys(catalogue.topics) as Topic[]).map(canonicalTopic);
      for (const { k, topic } of fanouts) {
        const canonical = canonicalTopic(topic);
        const recipients = deliveryDecision(catalogue, topic, exampleEvent(topic) as never, now, now).map(
          (d) => d.party.id,
        );
        const start = await ends(admin, [canonical, ...recipients.map((p) => deliveryTopic(p, topic))]);
        const schemaId = await idOf(topic);
        log(`fan-out ${k} (${topic} → ${recipients.join(", ")}): loading ${N} canonical events …`);
        await load(
          loader,
          canonical,
          Array.from({ length: N }, (_, i) => {
            const e = payload(topic, i);
            return {
              key: String(e.subjectKvk),
              value: toWire(schemaId, encodeEvent(topic, e as never)),
              headers: {
                [H.eventId]: crypto.randomUUID(),
                [H.topic]: topic,
                [H.producer]: "nla",
                [H.grondslag]: "bench",
                [H.purpose]: "bench",
                [H.schemaId]: String(schemaId),
              },
            };
          }),
        );
        const out = await scratchTopic(`twin-fanout${k}`, 6);
        log(`fan-out ${k} twin: raw consume → produce, ${2 * k} records per event …`);
        const t = await twin(config, admin, { source: canonical, from: start, out, recordsPerEvent: 2 * k });
        rows.push({
          id: `fanout${k}-twin`,
          name: `twin: raw pipe, ${2 * k} records per event`,
          ...t,
          recordsPerEvent: 2 * k,
        });
        log(`fan-out ${k}: the gateway (delivery worker only) …`);
        const prefix = `grondslag.gateway.bench-${run}-f${k}`;
        const at = await ends(admin, allCanonical);
        at[canonical] = start[canonical] ?? [];
        await startGroupAt(config, `${prefix}.deliver`, at);
        const child = await gateway(`fanout${k}`, ["delivery"], { GATEWAY_GROUP_PREFIX: prefix });
        const g = await drain(admin, `${prefix}.deliver`, [canonical], child);
        await child.stop();
        const after = await ends(
          admin,
          recipients.map((p) => deliveryTopic(p, topic)),
        );
        for (const p of recipients) {
          const n = growth(start, after, deliveryTopic(p, topic));
          if (n < N) throw new Error(`fan-out ${k}: ${p} received ${n} of ${N} deliveries`);
        }
        rows.push({
          id: `fanout${k}`,
          name: `delivery to ${k} consumer${k > 1 ? "s" : ""} (${topic}): project, DISCLOSE first, deliver, dedupe row`,
          ...g,
          recordsPerEvent: 2 * k,
          twin: `fanout${k}-twin`,
          ...(k === 5 ? { goal: { twin: 0.3 } } : {}),
        });
      }
    }

    // 3. HTTP: saturation (closed loop) and latency at half of it (open loop), autocannon in its own process.
    if (PHASES.has("http")) {
      log(`http: the gateway (HTTP only, rate limit ${RATE.perSecond}/s per party, burst ${RATE.burst}) …`);
      const child = await gateway("http", [], {});
      const token = await child.token(PARTY);
      const auth = {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        grondslag: GRONDSLAG,
        doelbinding: PURPOSE,
      };
      const event = JSON.stringify(payload(TOPIC, 1));
      const BATCH = 500;
      const specs = {
        healthz: {
          url: `${child.base}/healthz`,
          method: "GET",
          expectStatus: 200,
          connections: 32,
          events: 1,
        },
        single: {
          url: `${child.base}/v1/topics/${TOPIC}/events`,
          method: "POST",
          headers: { ...auth, "idempotency-key": "__KEY__" },
          body: event,
          expectStatus: 202,
          connections: 32,
          events: 1,
        },
        batch: {
          url: `${child.base}/v1/topics/${TOPIC}/event-batches`,
          method: "POST",
          headers: auth,
          body: JSON.stringify({
            events: Array.from({ length: BATCH }, () => ({ idempotencyKey: "__KEY__", data: "__DATA__" })),
          }).replace(/"__DATA__"/g, event),
          expectStatus: 200,
          connections: 4,
          events: BATCH,
        },
      } as const;
      const http: Record<string, { saturated: LoadResult; half: LoadResult; resources?: unknown }> = {};
      for (const [name, s] of Object.entries(specs)) {
        const { events: _e, ...spec } = s;
        log(`http ${name}: saturation, ${s.connections} connections, ${HTTP_SECONDS} s …`);
        const res = sampler(child);
        const saturated = await load$({ ...spec, durationSeconds: HTTP_SECONDS });
        if (child.exited()) throw new Error(`the gateway exited under load: ${child.stderr()}`);
        const resources = res.stop();
        const rate = Math.max(1, Math.round(saturated.rps / 2));
        log(`http ${name}: constant ${rate} requests/s (half of saturation) …`);
        const half = await load$({ ...spec, durationSeconds: HTTP_SECONDS, overallRate: rate });
        for (const [what, r] of [
          ["saturation", saturated],
          ["half", half],
        ] as const) {
          if (r.errors > 0 || r.unexpected > 0) {
            throw new Error(
              `http ${name} (${what}): ${r.errors} errors, ${r.unexpected} unexpected statuses`,
            );
          }
        }
        http[name] = { saturated, half, ...(resources ? { resources } : {}) };
        rows.push({
          id: `http-${name}`,
          name:
            name === "healthz"
              ? `HTTP GET /healthz, ${s.connections} connections (the generator's ceiling)`
              : name === "single"
                ? `HTTP POST …/events, one event a request, ${s.connections} connections`
                : `HTTP POST …/event-batches, ${BATCH} events a request, ${s.connections} connections`,
          events: saturated.requests * s.events,
          ms: saturated.durationSeconds * 1000,
          recordsPerEvent: name === "healthz" ? 0 : 2,
          latency: { rate: rate * s.events, p50: half.latencyMs.p50, p99: half.latencyMs.p99 },
          ...(resources && name !== "healthz" ? { resources } : {}),
          ...(name === "single" ? { twin: "http-healthz", goal: { twin: 0.5, p99Ms: 50 } } : {}),
          ...(name === "batch" ? { goal: { eventsPerSecond: 10_000 } } : {}),
        });
      }
      extra.http = http;
      await child.stop();
    }

    // 4. Audit ingest (the audit service's own bench, in a process of its own).
    if (PHASES.has("audit")) {
      log("audit: npm run bench:audit (audit.log → PostgreSQL, hash-chained) …");
      const file = path.join(os.tmpdir(), `grondslag-bench-audit-${run}.json`);
      await new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", path.join(HERE, "../../audit/bench/ingest.bench.ts")],
          {
            stdio: ["ignore", "ignore", "inherit"],
            env: { ...process.env, BENCH_RECORDS: String(Math.max(N, 2000)), BENCH_JSON: file },
          },
        );
        child.on("error", reject);
        // Exit 1 means only that its target was missed: the figures are in the file either way.
        child.on("close", () => resolve());
      });
      const a = JSON.parse(fs.readFileSync(file, "utf8")) as {
        rows: { id: string; records: number; ms: number }[];
      };
      fs.rmSync(file, { force: true });
      const by = (id: string) => a.rows.find((r) => r.id === id);
      const bus = by("bus");
      const service = by("service");
      if (!bus || !service) throw new Error("bench:audit wrote no figures");
      rows.push({
        id: "audit-twin",
        name: "twin: consume + decode audit.log, no store",
        events: bus.records,
        ms: bus.ms,
        recordsPerEvent: 0,
      });
      rows.push({
        id: "audit",
        name: "audit ingest: batched, hash-chained inserts into PostgreSQL",
        events: service.records,
        ms: service.ms,
        recordsPerEvent: 0,
        twin: "audit-twin",
        goal: { eventsPerSecond: 20_000 },
      });
    }

    // Latency under a flood: an LSI signal's publish → SVB's HTTP mailbox, quiet and while accident reports
    // flood Kafka ingress.
    if (PHASES.has("flood")) {
      // Each variant is one shape of deploying the gateway, measured on the same flood: "one" is every worker in
      // one process (npm start's); "apart" puts Kafka ingress in a process of its own (GATEWAY_WORKERS); "split"
      // also puts the bulk delivery lane in one, leaving HTTP and the urgent lane (lsi.*) to the first; "/lanes"
      // gives lsi.* its delivery lane (GATEWAY_URGENT_TOPICS) in the same process; "/pN" consumes N partitions at
      // once (GATEWAY_PARTITIONS_CONCURRENTLY). The first is the report's headline.
      const variants = (process.env.BENCH_FLOOD_VARIANTS ?? "split,one")
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean);
      extra.floodVariants = [];
      for (const v of variants) {
        const m = /^(one|apart|split)(\/lanes)?(?:\/p(\d+))?$/.exec(v);
        if (!m) throw new Error(`BENCH_FLOOD_VARIANTS: ${v} is not (one|apart|split)[/lanes][/pN]`);
        const split = m[1] === "split";
        const shape = {
          variant: v,
          apart: m[1] !== "one",
          split,
          lanes: split || m[2] !== undefined,
          partitions: Number(m[3] ?? 1),
        };
        const f = await flood(config, admin, loader, gateway, shape);
        extra.floodVariants.push(f);
        extra.flood ??= f;
      }
    }
  } catch (err) {
    // What was measured before a phase failed is kept: the report is written with the rows so far.
    failed = err;
  } finally {
    for (const c of children) await c.stop().catch(() => undefined);
    await loader.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: scratch }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await stack.release();
  }

  const byId = new Map(rows.map((r) => [r.id, r]));
  const physicalRow = byId.get("physical");
  for (const r of rows) {
    const twinRow = r.twin ? byId.get(r.twin) : undefined;
    r.perSecond = ratesOf(r);
    if (twinRow) r.xTwin = r.perSecond / ratesOf(twinRow);
    if (physicalRow && r.recordsPerEvent > 0)
      r.xPhysical = (r.perSecond * r.recordsPerEvent) / ratesOf(physicalRow);
  }
  extra.idempotencyAtEnd = await idempotencyRows().catch(() => undefined);
  const report: BenchReport = {
    run,
    at: new Date().toISOString(),
    eventsPerPhase: N,
    machine: { cores: os.cpus().length, node: process.version, loadStart: load0, loadEnd: os.loadavg() },
    seconds: (performance.now() - started) / 1000,
    rows,
    extra,
  };
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, "results.json"), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT, "ratios.svg"), chart(report));
  process.stdout.write(table(report));
  process.stdout.write(`\nwrote ${path.join(OUT, "results.json")} and ${path.join(OUT, "ratios.svg")}\n`);
  if (failed) throw failed instanceof Error ? failed : new Error("a phase failed", { cause: failed });
}

/**
 * An LSI signal published over HTTP every 100 ms by nla, read from SVB's HTTP mailbox (long poll): its time from
 * publish to mailbox, first on a quiet bus, then while FLOOD accident reports pass through Kafka ingress.
 */
async function flood(
  config: StackConfig,
  admin: Admin,
  loader: Producer,
  gateway: (name: string, workers: GatewayWorker[], env: Record<string, string>) => Promise<ChildGateway>,
  shape: { variant: string; apart: boolean; split: boolean; lanes: boolean; partitions: number },
): Promise<Flood> {
  const SIGNAL: Topic = "lsi.signal-raised";
  const prefix = `grondslag.gateway.bench-${run}-fl-${shape.variant.replace(/[^a-z0-9]/g, "")}`;
  const catalogue = loadCatalogue();
  const canonical = (Object.keys(catalogue.topics) as Topic[]).map(canonicalTopic);
  const ingress = ingressTopic(PARTY);
  const mailboxTopic = deliveryTopic("svb", SIGNAL);
  const at = await ends(admin, [...canonical, ingress, mailboxTopic]);
  await startGroupAt(config, `${prefix}.deliver`, Object.fromEntries(canonical.map((t) => [t, at[t] ?? []])));
  await startGroupAt(config, `${prefix}.ingress`, { [ingress]: at[ingress] ?? [] });
  await startGroupAt(config, `${prefix}.http.svb.${SIGNAL}`, { [mailboxTopic]: at[mailboxTopic] ?? [] });
  const env = {
    GATEWAY_GROUP_PREFIX: prefix,
    GATEWAY_INGRESS_PARTIES: PARTY,
    GATEWAY_PARTITIONS_CONCURRENTLY: String(shape.partitions),
    ...(shape.lanes ? { GATEWAY_URGENT_TOPICS: "lsi.*" } : {}),
  };
  log(
    shape.split
      ? `flood [${shape.variant}]: a gateway for HTTP and urgent delivery, one for bulk delivery, one for Kafka ingress …`
      : shape.apart
        ? `flood [${shape.variant}]: a gateway for delivery and HTTP, and one for Kafka ingress …`
        : `flood [${shape.variant}]: one gateway (delivery, ingress and HTTP) …`,
  );
  const name = `flood-${shape.variant.replace(/[^a-z0-9]+/g, "-")}`;
  const child = await gateway(
    name,
    shape.split ? ["delivery-urgent"] : shape.apart ? ["delivery"] : ["delivery", "ingress"],
    env,
  );
  const bulkChild = shape.split ? await gateway(`${name}-bulk`, ["delivery-bulk"], env) : undefined;
  const ingressChild = shape.apart ? await gateway(`${name}-ingress`, ["ingress"], env) : undefined;
  const nla = await child.token("nla");
  const svb = await child.token("svb");
  const sent = new Map<string, number>();
  const seen: { at: number; ms: number; flood: boolean }[] = [];
  let flooding = false;
  let stop = false;
  const poller = (async () => {
    while (!stop) {
      const res = await fetch(`${child.base}/v1/topics/${SIGNAL}/deliveries?max=500&wait=1`, {
        headers: { authorization: `Bearer ${svb}`, doelbinding: "lsi-samenwerking" },
      });
      const body = (await res.json()) as { events?: { eventId: string; cursor: string }[] };
      if (res.status !== 200) throw new Error(`mailbox answered ${res.status}: ${JSON.stringify(body)}`);
      const events = body.events ?? [];
      const now = performance.now();
      for (const e of events) {
        const t = sent.get(e.eventId);
        if (t !== undefined) seen.push({ at: now, ms: now - t, flood: flooding });
      }
      const last = events.at(-1);
      if (last) {
        await fetch(`${child.base}/v1/topics/${SIGNAL}/deliveries/cursor`, {
          method: "PUT",
          headers: { authorization: `Bearer ${svb}`, "content-type": "application/json" },
          body: JSON.stringify({ cursor: last.cursor }),
        });
      }
    }
  })();
  let i = 0;
  const signal = async () => {
    const t = performance.now();
    const res = await fetch(`${child.base}/v1/topics/${SIGNAL}/events`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${nla}`,
        "content-type": "application/json",
        grondslag: "suwi-art64",
        doelbinding: "lsi-samenwerking",
      },
      body: JSON.stringify(payload(SIGNAL, i++)),
    });
    const body = (await res.json()) as { eventId?: string };
    if (res.status !== 202 || !body.eventId)
      throw new Error(`signal answered ${res.status}: ${JSON.stringify(body)}`);
    sent.set(body.eventId, t);
    return performance.now() - t;
  };
  const acks: { ms: number; flood: boolean }[] = [];
  // Signals go out every 100 ms whatever the answers take (at most 50 in flight): an open loop, so a slow answer
  // delays no later signal.
  let sending = false;
  let inFlight = 0;
  const failures: unknown[] = [];
  const sender = setInterval(() => {
    if (!sending || inFlight >= 50) return;
    inFlight++;
    const f = flooding;
    signal()
      .then(
        (ms) => acks.push({ ms, flood: f }),
        (err: unknown) => failures.push(err instanceof Error ? `${err.message}: ${String(err.cause)}` : err),
      )
      .finally(() => inFlight--);
  }, 100);
  const until = async (what: string, done: () => boolean | Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await done())) {
      if (child.exited()) throw new Error(`flood: the gateway exited: ${child.stderr()}`);
      if (ingressChild?.exited())
        throw new Error(`flood: the ingress gateway exited: ${ingressChild.stderr()}`);
      if (bulkChild?.exited())
        throw new Error(`flood: the bulk delivery gateway exited: ${bulkChild.stderr()}`);
      if (Date.now() > deadline) throw new Error(`flood: ${what} not within ${ms} ms`);
      await sleep(50);
    }
  };
  try {
    // Warm: the mailbox joins its group on the first poll; the first signal is not measured.
    await signal();
    await until("the first signal delivered", () => seen.length >= 1, 60_000);
    seen.length = 0;
    acks.length = 0;
    // Quiet: 20 signals on a bus with nothing else to do, each delivered.
    sending = true;
    await until("20 quiet signals", () => acks.length >= 20, 60_000);
    sending = false;
    await until("the quiet signals delivered", () => seen.length >= sent.size - 1 && inFlight === 0, 20_000);
    log(`flood: ${FLOOD} accident reports into ${ingress}, signals every 100 ms …`);
    const start = await ends(admin, [ingress, canonicalTopic(TOPIC)]);
    const schemaId = await new SchemaIds(config.registry.url, config.registry.gateway).idOf(
      subjectOf(canonicalTopic(TOPIC)),
      rawSchema(TOPIC),
    );
    flooding = true;
    sending = true;
    const t0 = performance.now();
    await load(
      loader,
      ingress,
      Array.from({ length: FLOOD }, (_, k) => {
        const e = payload(TOPIC, 1_000_000 + k);
        return {
          key: String(e.subjectKvk),
          value: toWire(schemaId, encodeEvent(TOPIC, e as never)),
          headers: {
            [INGRESS_HEADERS.topic]: TOPIC,
            [INGRESS_HEADERS.grondslag]: GRONDSLAG,
            [INGRESS_HEADERS.purpose]: PURPOSE,
          },
        };
      }),
    );
    await until(
      "the flood drained",
      async () =>
        (await lagOf(admin, `${prefix}.ingress`, [ingress])) +
          (await lagOf(admin, `${prefix}.deliver`, [canonicalTopic(TOPIC)])) ===
        0,
      300_000,
    );
    const floodSeconds = (performance.now() - t0) / 1000;
    sending = false;
    flooding = false;
    await until("every signal delivered", () => seen.length >= sent.size - 1 && inFlight === 0, 30_000);
    const after = await ends(admin, [canonicalTopic(TOPIC)]);
    const pct = (xs: number[], p: number) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN);
    };
    const of = (f: boolean) => seen.filter((s) => s.flood === f).map((s) => s.ms);
    const ackOf = (f: boolean) => acks.filter((s) => s.flood === f).map((s) => s.ms);
    const result: Flood = {
      variant: shape.variant,
      floodEvents: growth(start, after, canonicalTopic(TOPIC)),
      floodSeconds,
      signals: { sent: sent.size, delivered: seen.length },
      quiet: {
        n: of(false).length,
        p50: pct(of(false), 50),
        p99: pct(of(false), 99),
        max: Math.max(...of(false)),
      },
      flood: {
        n: of(true).length,
        p50: pct(of(true), 50),
        p99: pct(of(true), 99),
        max: Math.max(...of(true)),
      },
      publishAck: {
        quiet: { p50: pct(ackOf(false), 50), p99: pct(ackOf(false), 99) },
        flood: { p50: pct(ackOf(true), 50), p99: pct(ackOf(true), 99) },
      },
      goalMs: 1000,
      failedPublishes: failures.length,
      ...(failures.length > 0 ? { firstFailure: String(failures[0]) } : {}),
    };
    return result;
  } finally {
    clearInterval(sender);
    stop = true;
    await poller.catch(() => undefined);
    await child.stop();
    await ingressChild?.stop();
    await bulkChild?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
