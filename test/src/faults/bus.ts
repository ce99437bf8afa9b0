import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { consumersOf, deliveryDecision, loadCatalogue, type Catalogue } from "@grondslag/contracts";
import { freePorts, REPO_ROOT, STATE_DIR, waitFor } from "@grondslag/infra";
import {
  endOffsets,
  readToEnd,
  startGroupsAtEnd,
  startPrivatePostgres,
  type FaultStack,
  type Offsets,
  type PrivatePostgres,
} from "@grondslag/infra/test";
import { AUDIT_TOPIC, decodeAuditRecord } from "@grondslag/kit";
import { readCredential } from "@grondslag/provision";
import { exampleEvent, type TopicMap } from "@grondslag/schemas";
import {
  createClient,
  createIngressPublisher,
  createKafkaSubscriber,
  DEV_ISSUER,
  ensureKeyPair,
  RefusalError,
  tokenSigner,
  type Client,
  type IngressPublisher,
  type KafkaSubscription,
} from "@grondslag/sdk";
import {
  BUS_HEADERS,
  canonicalTopic,
  deadLetterTopic,
  deliveryTopic,
  header,
  ingressTopic,
  rejectedTopic,
} from "@grondslag/wire";
import { exportJWK, generateKeyPair } from "jose";
import { Kafka, logLevel } from "kafkajs";
import { ServiceProcess } from "./procs";

const run$ = promisify(execFile);

/** The topic the load runs on: five LSI partners produce and consume it (Wet SUWI art. 64), no binding. */
export const TOPIC = "lsi.signal-raised" as const;
const GRONDSLAG = "suwi-art64";
const PURPOSE = "lsi-samenwerking";
/** Producers over HTTP, and the producer over Kafka ingress. */
const HTTP_PRODUCERS = ["uwv", "nla"] as const;
const INGRESS_PRODUCER = "svb";
/** The consumers the invariants follow: each a real subscriber of its party (see `startFaultBus`). */
export const CONSUMERS = ["nla:kafka", "uwv:http", "svb:kafka-group", "belastingdienst:agency"] as const;
export type ConsumerName = (typeof CONSUMERS)[number];
const partyOf = (c: ConsumerName) => c.slice(0, c.indexOf(":"));

export type Level = "full" | "reduced";
/** GRONDSLAG_FAULTS=full (npm run test:faults): every fault at least 5 times; otherwise fewer, shorter. */
export const LEVEL: Level = process.env.GRONDSLAG_FAULTS === "full" ? "full" : "reduced";

interface Offered {
  ref: string;
  fault: string;
  via: "http" | "kafka";
  producer: string;
  offeredAt: number;
  ackedAt?: number;
  /** From the HTTP receipt (ingress acknowledgements carry none: the gateway assigns it later). */
  eventId?: string;
  failed?: string;
  /** The event, built once: a retry must send the same payload under its key (else IDEMPOTENCY_CONFLICT). */
  value: TopicMap[typeof TOPIC];
}

export interface FaultFigures {
  fault: string;
  repetitions: number;
  offered: number;
  acknowledged: number;
  /** Distinct (event, consumer) pairs handed to the followed consumers' code. */
  delivered: number;
  /** Acknowledged events missing from the canonical topic, or from a consumer their contract names. */
  lost: number;
  /** Acknowledged events with more than one canonical record. */
  canonicalDuplicates: number;
  canonicalDuplicateRefs: string[];
  /** (event, recipient) pairs with more than one DISCLOSE record in the audit store. */
  duplicatedDisclosures: number;
  /** Deliveries without a DISCLOSE record. */
  undisclosed: number;
  /** Records on audit.log (this fault's window) missing from the store. */
  auditMissing: number;
  /** Delivery records on the followed Kafka delivery topics beyond the first per event id (the SDK drops those a
   * subscriber already handed out), and repeats that reached a consumer's code because another instance (another
   * group member, the other gateway's poller) had handed the event out first: same event id, at least once. */
  rawDeliveryRepeats: number;
  repeatsAcrossInstances: number;
  /** Agency effects: events its contract gives it that it did not apply, or applied more than once. */
  agencyMissing: number;
  agencyDuplicates: number;
  auditVerified: boolean;
  /** Per repetition: ms from the fault's end to the first publish that was delivered again. */
  recoveryMs: number[];
  /** Per repetition: of that, ms until the probe's publish was acknowledged (the rest is delivery). */
  recoveryAckMs: number[];
  /** Exits of services the spec did not cause, per service. */
  crashes: Record<string, number>;
  ingressRefusals: number;
  /** Offered events that were not acknowledged, by the last error the producer saw. */
  notAcknowledged: { reason: string; n: number }[];
  problems: string[];
}

type Json = Record<string, unknown>;

export interface FaultBus {
  stack: FaultStack;
  pg: PrivatePostgres;
  gateways: ServiceProcess[];
  audit: ServiceProcess;
  agency: ServiceProcess;
  catalogue: Catalogue;
  progress: (line: string) => void;
  /** Starts steady load for `fault`; the returned window is what `check` looks at. */
  startLoad(fault: string): Promise<Window>;
  /** Resolves once `n` more events of the window were acknowledged (a moment in the load, chosen by count). */
  acked(window: Window, n: number, timeoutMs?: number): Promise<void>;
  /** From now: publishes probes until one is delivered to nla; the ms it took. */
  recovery(window: Window): Promise<number>;
  stopLoad(window: Window): Promise<void>;
  check(window: Window, repetitions: number, recoveryMs: number[]): Promise<FaultFigures>;
  /** The svb group: members join and leave; one member is slower than its session timeout. */
  churn: {
    join(opts?: { slowMs?: number }): Promise<KafkaSubscription>;
  };
  stop(): Promise<void>;
}

export interface Window {
  fault: string;
  prefix: string;
  from: Offsets;
  running: boolean;
  loops: Promise<void>[];
  crashBase: Record<string, number>;
  recoveryAckMs: number[];
}

/**
 * The bus under fault, as `npm start` runs it but with a private PostgreSQL: two gateway processes sharing their
 * consumer groups (a prefix of this run's own, started at the end of the topics), the audit service, and the
 * Belastingdienst's agency service, each its own process; consumers of four parties (Kafka, HTTP over both gateways,
 * a Kafka group whose members come and go, the agency); producers over HTTP (two parties, failing over between the
 * gateways) and Kafka ingress (one party).
 */
export async function startFaultBus(opts: {
  stack: FaultStack;
  credentialsFile: string;
  progress?: (line: string) => void;
}): Promise<FaultBus> {
  // A start that fails half-way stops exactly what it had started.
  const started: Started = { services: [] };
  try {
    return await startBus(opts, started);
  } catch (err) {
    await Promise.allSettled(started.services.map((s) => s.stop()));
    await started.pg?.destroy().catch(() => {});
    throw err;
  }
}

interface Started {
  pg?: PrivatePostgres;
  services: ServiceProcess[];
}

async function startBus(
  opts: { stack: FaultStack; credentialsFile: string; progress?: (line: string) => void },
  started: Started,
): Promise<FaultBus> {
  const { stack, credentialsFile } = opts;
  const config = stack.config;
  const t0 = Date.now();
  const progress =
    opts.progress ??
    ((line: string) =>
      process.stderr.write(`[faults ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`));
  const run = crypto.randomBytes(3).toString("hex");
  const logDir = path.join(STATE_DIR, "faults", run);
  fs.mkdirSync(logDir, { recursive: true });
  const catalogue = loadCatalogue();
  const database = "grondslag_faults";
  // Every port from the private range, below the kernel's ephemeral ports: a killed process's port in that range can
  // be taken by any client's outgoing connection before the process starts again, which then cannot listen
  // (EADDRINUSE; see RELIABILITY.md, "The harness's own flaw").
  const [pgPort, gatewayPort1, gatewayPort2, auditPort, agencyPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const pg = await startPrivatePostgres({ port: pgPort, databases: [database], progress });
  started.pg = pg;
  const owner = pg.url(database);
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-faults-keys-"));
  const pseudonym = crypto.randomBytes(32).toString("base64");
  const prefix = `grondslag.gateway.faults-${run}`;

  // Every group of this run starts at the end of its topics: a used stack's backlog is neither delivered nor read.
  const topics = Object.keys(catalogue.topics) as (keyof TopicMap)[];
  const mailboxes: Record<string, string[]> = {};
  for (const t of topics)
    for (const d of consumersOf(catalogue, t, new Date()))
      mailboxes[`${prefix}.http.${d.party.id}.${t}`] = [deliveryTopic(d.party.id, t)];
  const agencyPrefix = `belastingdienst.faults-${run}`;
  const agencyGroups: Record<string, string[]> = {
    [`${agencyPrefix}.rejected`]: [rejectedTopic("belastingdienst")],
    [`${agencyPrefix}.replay`]: [deadLetterTopic("belastingdienst")],
  };
  for (const t of topics)
    if (consumersOf(catalogue, t, new Date()).some((d) => d.party.id === "belastingdienst"))
      agencyGroups[`${agencyPrefix}.${t}`] = [deliveryTopic("belastingdienst", t)];
  const auditGroup = `grondslag.audit.faults-${run}`;
  const groups = {
    nla: `nla.faults-${run}.${TOPIC}`,
    svb: `svb.faults-${run}.${TOPIC}`,
  };
  await startGroupsAtEnd(config, {
    [`${prefix}.deliver`]: topics.map((t) => canonicalTopic(t)),
    [`${prefix}.ingress`]: [ingressTopic(INGRESS_PRODUCER)],
    ...mailboxes,
    ...agencyGroups,
    [auditGroup]: [AUDIT_TOPIC],
    [groups.nla]: [deliveryTopic("nla", TOPIC)],
    [groups.svb]: [deliveryTopic("svb", TOPIC)],
  });

  const common = {
    ...process.env,
    GRONDSLAG_ENV: "development",
    LOG_LEVEL: "warn",
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    CONTRACTS_DIR: path.join(REPO_ROOT, "contracts", "data"),
  };
  const gateways: ServiceProcess[] = [];
  for (const [n, port] of [gatewayPort1, gatewayPort2].entries()) {
    const i = n + 1;
    gateways.push(
      new ServiceProcess(
        `gateway-${i}`,
        "services/gateway/src/main.ts",
        port,
        {
          ...common,
          GATEWAY_HOST: "127.0.0.1",
          GATEWAY_PORT: String(port),
          GATEWAY_KAFKA_PASSWORD: readCredential(credentialsFile, "grondslag.gateway"),
          REGISTRY_URL: config.registry.url,
          REGISTRY_USERNAME: config.registry.gateway.username,
          REGISTRY_PASSWORD: config.registry.gateway.password,
          DATABASE_URL: owner,
          GATEWAY_DB_SCHEMA: "gateway",
          GATEWAY_GROUP_PREFIX: prefix,
          GATEWAY_INSTANCE_ID: `faults-${run}-${i}`,
          GATEWAY_INGRESS_PARTIES: INGRESS_PRODUCER,
          PSEUDONYM_KEY: pseudonym,
          DEV_KEYS_DIR: keysDir,
        },
        path.join(logDir, `gateway-${i}.log`),
        progress,
      ),
    );
  }
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const checkpointKey = JSON.stringify({ ...(await exportJWK(privateKey)), kid: `faults-${run}` });
  const writer = `faults_audit_writer`;
  const writerUrl = new URL(owner);
  writerUrl.username = writer;
  const auditSchema = "audit";
  const audit = new ServiceProcess(
    "audit",
    "services/audit/src/main.ts",
    auditPort,
    {
      ...common,
      AUDIT_HOST: "127.0.0.1",
      AUDIT_PORT: String(auditPort),
      AUDIT_KAFKA_PASSWORD: readCredential(credentialsFile, "grondslag.audit"),
      AUDIT_GROUP: auditGroup,
      AUDIT_DATABASE_URL: writerUrl.toString(),
      AUDIT_MIGRATE_DATABASE_URL: owner,
      AUDIT_DB_WRITER_ROLE: writer,
      AUDIT_DB_SCHEMA: auditSchema,
      AUDIT_CHECKPOINT_KEY: checkpointKey,
      AUDIT_CHECKPOINT_INTERVAL_MS: "2000",
      PSEUDONYM_KEY: pseudonym,
      DEV_KEYS_DIR: keysDir,
    },
    path.join(logDir, "audit.log"),
    progress,
  );
  const agencySchema = "agency_belastingdienst";
  const agency = new ServiceProcess(
    "agency belastingdienst",
    "services/belastingdienst/src/main.ts",
    agencyPort,
    {
      ...common,
      AGENCY_PARTY: "belastingdienst",
      AGENCY_HOST: "127.0.0.1",
      AGENCY_PORT: String(agencyPort),
      GATEWAY_URL: gateways[0]!.base,
      AGENCY_KAFKA_PASSWORD: readCredential(credentialsFile, "belastingdienst"),
      DATABASE_URL: owner,
      AGENCY_DB_SCHEMA: agencySchema,
      AGENCY_GROUP_PREFIX: agencyPrefix,
      DESK_TOKEN: crypto.randomBytes(24).toString("base64url"),
      AGENCY_KEYS_DIR: keysDir,
      AGENCY_POLL_SECONDS: "2",
      AGENCY_OUTBOX_SWEEP_MS: "500",
    },
    path.join(logDir, "agency-belastingdienst.log"),
    progress,
  );

  const services = [...gateways, audit, agency];
  started.services.push(...services);
  // The test process's own clients log nothing: a broker kill makes each of them log every reconnect.
  const kafkaOf = (party: string) => ({
    logLevel: logLevel.NOTHING,
    brokers: config.kafka.brokers,
    sasl: {
      mechanism: "scram-sha-256" as const,
      username: party,
      password: readCredential(credentialsFile, party),
    },
  });
  const tokens = new Map<string, () => Promise<string>>();
  async function tokenOf(party: string) {
    let t = tokens.get(party);
    if (!t) {
      const { privateJwk } = await ensureKeyPair(keysDir, party);
      t = tokenSigner({ party, privateJwk, issuer: DEV_ISSUER, ttlSeconds: 900 });
      tokens.set(party, t);
    }
    return t;
  }
  // Keys first: the gateways read the development keys directory for parties without a registered key.
  for (const p of [...HTTP_PRODUCERS, INGRESS_PRODUCER, "nla", "uwv", "svb", "belastingdienst"])
    await tokenOf(p);

  progress(`starting 2 gateways, the audit service and the Belastingdienst's agency (logs: ${logDir}) …`);
  // One after the other: each migrates its database schema at start.
  await gateways[0]!.start();
  await gateways[1]!.start();
  await audit.start();
  await agency.start();

  const offered = new Map<string, Offered>();
  /** Per consumer: per signal reference, the event ids its code was handed (an entry per hand-out). */
  const received = new Map<ConsumerName, Map<string, string[]>>(CONSUMERS.map((c) => [c, new Map()]));
  let sdkDropped = 0;
  const refusals: string[] = [];
  const note = (c: ConsumerName, ref: string | undefined, eventId: string) => {
    if (!ref) return;
    const m = received.get(c)!;
    const l = m.get(ref);
    if (l) l.push(eventId);
    else m.set(ref, [eventId]);
  };

  // Clients: per HTTP producer one SDK client per gateway, short retries (the loop fails over to the other).
  const retry = { maxAttempts: 3, deadlineMs: 3_000, baseDelayMs: 100, maxDelayMs: 1_000 };
  const clients = new Map<string, Client<TopicMap>[]>();
  for (const p of [...HTTP_PRODUCERS, "uwv"]) {
    if (clients.has(p)) continue;
    const token = await tokenOf(p);
    clients.set(
      p,
      gateways.map((g) =>
        createClient<TopicMap>({ baseUrl: g.base, token, retry, requestTimeoutMs: 10_000 }),
      ),
    );
  }
  const registryWindow = async (party: string) => ({
    baseUrl: gateways[0]!.base,
    token: await tokenOf(party),
  });
  const ingress: IngressPublisher<TopicMap> = createIngressPublisher<TopicMap>({
    kafka: kafkaOf(INGRESS_PRODUCER),
    party: INGRESS_PRODUCER,
    registry: await registryWindow(INGRESS_PRODUCER),
  });
  const refusalWatch = await ingress.watchRefusals({
    groupId: `${INGRESS_PRODUCER}.faults-${run}.rejected`,
    onRefusal: (err) => {
      refusals.push(`${err.idempotencyKey}: ${err.code} ${err.detail}`);
    },
  });

  // Consumers. nla on Kafka (the SDK subscriber); uwv over HTTP, polling each gateway (each holds the mailbox
  // partitions its consumer was given); svb a Kafka group whose members come and go (churn.join).
  const nlaSub = await createKafkaSubscriber<TopicMap>({
    kafka: kafkaOf("nla"),
    party: "nla",
    registry: await registryWindow("nla"),
  }).subscribe(TOPIC, {
    groupId: groups.nla,
    eachDelivery: (d) => note("nla:kafka", d.value.signalReference ?? undefined, d.eventId),
  });
  let polling = true;
  const pollers = gateways.map(async (_g, i) => {
    const client = clients.get("uwv")![i]!;
    while (polling) {
      try {
        const { deliveries, cursor } = await client.poll(TOPIC, {
          purpose: PURPOSE,
          waitSeconds: 2,
          max: 200,
        });
        for (const d of deliveries) note("uwv:http", d.value.signalReference ?? undefined, d.eventId);
        if (cursor) await client.commit(TOPIC, cursor);
      } catch (err) {
        if (err instanceof RefusalError && !err.retriable)
          progress(`uwv poll refused: ${err.code} ${err.detail}`);
        // A gateway that is down: ask again (the SDK already backed off).
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });
  const members = new Set<KafkaSubscription>();
  async function join(o: { slowMs?: number } = {}): Promise<KafkaSubscription> {
    let kafka = new Kafka(kafkaOf("svb"));
    if (o.slowMs) {
      // The slow member: a session timeout of 6 s (the broker's minimum), a handler that blocks longer once.
      const base = kafka;
      kafka = new Proxy(base, {
        get(target, prop, recv) {
          if (prop === "consumer")
            return (c: Parameters<Kafka["consumer"]>[0]) =>
              target.consumer({ ...c, sessionTimeout: 6_000, heartbeatInterval: 1_000 });
          return Reflect.get(target, prop, recv) as unknown;
        },
      });
    }
    let slowOnce = o.slowMs ?? 0;
    const sub = await createKafkaSubscriber<TopicMap>({
      kafka,
      party: "svb",
      registry: await registryWindow("svb"),
    }).subscribe(TOPIC, {
      groupId: groups.svb,
      eachDelivery: async (d) => {
        if (slowOnce > 0) {
          const ms = slowOnce;
          slowOnce = 0;
          // The fault itself: this member's handler outlasts its session timeout.
          await new Promise((r) => setTimeout(r, ms));
        }
        note("svb:kafka-group", d.value.signalReference ?? undefined, d.eventId);
      },
    });
    const wrapped: KafkaSubscription = {
      stop: async () => {
        members.delete(wrapped);
        await sub.stop();
      },
    };
    members.add(wrapped);
    return wrapped;
  }
  // One member always in the group, so the svb consumer always exists.
  await join();

  // The agency's effects are read from its own tables (inbox and its LSI signals).
  const pgPool = new (await import("pg")).default.Pool({ connectionString: owner, max: 3 });
  pgPool.on("error", () => {});
  async function agencyEffects(refs: string[]): Promise<Map<string, number>> {
    const { rows } = await pgPool.query<{ ref: string; n: string }>(
      `SELECT signal_reference AS ref, count(*) AS n FROM ${agencySchema}.lsi_signals
        WHERE signal_reference = ANY($1) GROUP BY 1`,
      [refs],
    );
    return new Map(rows.map((r) => [r.ref, Number(r.n)]));
  }

  const value = (ref: string) => ({
    ...exampleEvent(TOPIC),
    signalReference: ref,
    eventTime: new Date(),
    summary: `fault load ${ref}`,
  });
  let rr = 0;
  async function publishHttp(o: Offered, deadlineMs = 180_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    const mine = clients.get(o.producer)!;
    for (let i = rr++; ; i++) {
      try {
        const r = await mine[i % mine.length]!.publish(TOPIC, o.value, {
          grondslag: GRONDSLAG,
          purpose: PURPOSE,
          idempotencyKey: o.ref,
        });
        o.ackedAt = Date.now();
        o.eventId = r.eventId;
        return;
      } catch (err) {
        if ((err instanceof RefusalError && !err.retriable) || Date.now() > deadline) {
          o.failed = err instanceof Error ? err.message : String(err);
          return;
        }
        // The SDK backed off within its attempts; the next try goes to the other gateway.
      }
    }
  }
  async function publishKafka(o: Offered, deadlineMs = 180_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        await ingress.publish(TOPIC, o.value, {
          grondslag: GRONDSLAG,
          purpose: PURPOSE,
          idempotencyKey: o.ref,
          key: "90000002",
        });
        o.ackedAt = Date.now();
        return;
      } catch (err) {
        if (
          (err instanceof RefusalError && !err.retriable && err.code !== "UNAVAILABLE") ||
          Date.now() > deadline
        ) {
          o.failed = err instanceof Error ? err.message : String(err);
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  let seq = 0;
  const offer = (w: Window, via: "http" | "kafka", producer: string, suffix = ""): Offered => {
    const ref = `${w.prefix}${++seq}${suffix}`;
    const o: Offered = { ref, fault: w.fault, via, producer, offeredAt: Date.now(), value: value(ref) };
    offered.set(o.ref, o);
    return o;
  };
  const crashes = () => Object.fromEntries(services.map((s) => [s.name, s.unexpectedExits.length]));

  // Load pacing: each producer offers an event every PACE_MS (load shaping, not a wait on anything), with at most
  // INFLIGHT of its own unanswered at once.
  const PACE_MS = 100;
  const INFLIGHT = 8;
  const bus: FaultBus = {
    stack,
    pg,
    gateways,
    audit,
    agency,
    catalogue,
    progress,
    async startLoad(fault) {
      const w: Window = {
        fault,
        prefix: `F-${fault}-${run}-`,
        from: await endOffsets(config, [
          canonicalTopic(TOPIC),
          AUDIT_TOPIC,
          deliveryTopic("nla", TOPIC),
          deliveryTopic("svb", TOPIC),
        ]),
        running: true,
        loops: [],
        crashBase: crashes(),
        recoveryAckMs: [],
      };
      const loop = async (via: "http" | "kafka", producer: string) => {
        const inflight = new Set<Promise<void>>();
        while (w.running) {
          if (inflight.size >= INFLIGHT) {
            await Promise.race(inflight);
            continue;
          }
          const o = offer(w, via, producer);
          const p = (via === "http" ? publishHttp(o) : publishKafka(o)).finally(() => inflight.delete(p));
          inflight.add(p);
          await new Promise((r) => setTimeout(r, PACE_MS));
        }
        await Promise.all(inflight);
      };
      w.loops = [...HTTP_PRODUCERS.map((p) => loop("http", p)), loop("kafka", INGRESS_PRODUCER)];
      return w;
    },
    async acked(w, n, timeoutMs = 120_000) {
      const count = () => [...offered.values()].filter((o) => o.fault === w.fault && o.ackedAt).length;
      const target = count() + n;
      await waitFor(
        `${n} more acknowledged events under ${w.fault}`,
        () => Promise.resolve(count() >= target ? true : undefined),
        {
          timeoutMs,
          intervalMs: 20,
        },
      );
    },
    async recovery(w) {
      const start = Date.now();
      const o = offer(w, "http", "uwv", "-probe");
      await publishHttp(o, 300_000);
      if (!o.ackedAt) throw new Error(`no publish succeeded within 300 s of ${w.fault}'s end: ${o.failed}`);
      await waitFor(
        `the probe ${o.ref} delivered to nla after ${w.fault}`,
        () => Promise.resolve(received.get("nla:kafka")!.has(o.ref) ? true : undefined),
        { timeoutMs: 300_000, intervalMs: 10 },
      );
      w.recoveryAckMs.push(o.ackedAt - start);
      return Date.now() - start;
    },
    async stopLoad(w) {
      w.running = false;
      await Promise.all(w.loops);
    },
    async check(w, repetitions, recoveryMs) {
      const mine = [...offered.values()].filter((o) => o.fault === w.fault);
      const acked = mine.filter((o) => o.ackedAt);
      const ackedRefs = new Set(acked.map((o) => o.ref));
      const problems: string[] = [];
      const registry = new SchemaRegistry({
        host: config.registry.url,
        auth: { username: config.registry.admin.username, password: config.registry.admin.password },
      });
      // Expected recipients, from the contracts' own delivery decision (the event as published).
      const now = new Date();
      const expected = new Set(
        deliveryDecision(catalogue, TOPIC, value("x"), now, now).map((d) => d.party.id),
      );
      // The agency is followed by its effects (below); the others by what their code was handed.
      const followed = CONSUMERS.filter((c) => expected.has(partyOf(c)) && !c.endsWith(":agency"));
      /** Each fault-load event's copies on the canonical topic: its event id, and where and by whom it was written. */
      const canonical = new Map<string, { id: string; at: string }[]>();
      const readCanonical = async () => {
        canonical.clear();
        const recs = await readToEnd(config, {
          topic: canonicalTopic(TOPIC),
          from: w.from,
          timeoutMs: 120_000,
          map: async (m, partition) => {
            const v = (await registry.decode(m.value!)) as { signalReference?: string };
            const ref = v.signalReference ?? "";
            if (!ref.startsWith(w.prefix)) return undefined;
            // Where each copy lies and which producer (id:epoch, transactional or not) wrote it: a duplicate's
            // copies then tell a second write from an aborted one that a reader let through.
            const b = (
              m as { batchContext?: { producerId?: string; producerEpoch?: number; inTransaction?: boolean } }
            ).batchContext;
            const by = `${b?.producerId ?? "?"}:${b?.producerEpoch ?? "?"}${b?.inTransaction ? " (txn)" : ""}`;
            return {
              ref,
              id: header(m.headers, BUS_HEADERS.eventId) ?? "",
              at: `${partition}:${m.offset} by ${by}`,
            };
          },
        });
        for (const { ref, id, at } of recs) canonical.set(ref, [...(canonical.get(ref) ?? []), { id, at }]);
      };
      const auditRows = async (ids: string[]) =>
        (
          await pgPool.query<{ event_id: string; recipient: string | null; action: string; n: string }>(
            `SELECT event_id, recipient, action, count(*) AS n FROM ${auditSchema}.records
              WHERE event_id = ANY($1) GROUP BY 1, 2, 3`,
            [ids],
          )
        ).rows;
      // Settle: wait (with a deadline) until every acknowledged event reached everything it should.
      const settled = await waitFor(
        `every acknowledged event of ${w.fault} delivered, applied and audited`,
        async () => {
          await readCanonical();
          if ([...ackedRefs].some((r) => !canonical.has(r))) return undefined;
          for (const c of followed)
            if ([...ackedRefs].some((r) => !received.get(c)!.has(r))) return undefined;
          const ids = [...ackedRefs].map((r) => canonical.get(r)![0]!.id);
          const rows = await auditRows(ids);
          const disclosed = new Set(
            rows.filter((r) => r.action === "DISCLOSE").map((r) => `${r.event_id}|${r.recipient}`),
          );
          for (const id of ids) for (const p of expected) if (!disclosed.has(`${id}|${p}`)) return undefined;
          return true;
        },
        { timeoutMs: 240_000, intervalMs: 1000, progress },
      ).then(
        () => true,
        (err: unknown) => {
          problems.push(err instanceof Error ? err.message : String(err));
          return false;
        },
      );
      if (!settled) await readCanonical().catch(() => {});
      // The agency's effects and the audit store lag the deliveries by a moment: the agency's inbox and every
      // record on audit.log in this window, waited for with a deadline too.
      const eventIds = [...ackedRefs].flatMap((r) => (canonical.get(r) ?? []).map((c) => c.id));
      const agencyExpected = expected.has("belastingdienst") ? [...ackedRefs] : [];
      const logRecords = await readToEnd(config, {
        topic: AUDIT_TOPIC,
        from: w.from,
        timeoutMs: 120_000,
        map: (m) => {
          try {
            const r = decodeAuditRecord(m.value ?? Buffer.alloc(0));
            return { id: r.id, eventId: r.eventId };
          } catch {
            return undefined;
          }
        },
      });
      const logIds = [...new Set(logRecords.map((r) => r.id))];
      let storedIds = new Map<string, number>();
      let effects = new Map<string, number>();
      await waitFor(
        `the audit store and the agency caught up with ${w.fault}`,
        async () => {
          storedIds = new Map(
            (
              await pgPool.query<{ id: string; n: string }>(
                `SELECT id, count(*) AS n FROM ${auditSchema}.records WHERE id = ANY($1) GROUP BY 1`,
                [logIds],
              )
            ).rows.map((r) => [r.id, Number(r.n)]),
          );
          effects = await agencyEffects(agencyExpected);
          return storedIds.size === logIds.length && effects.size === agencyExpected.length
            ? true
            : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      ).catch((err: unknown) => problems.push(err instanceof Error ? err.message : String(err)));

      let lost = 0;
      let canonicalDuplicates = 0;
      const duplicatesSeen: string[] = [];
      for (const ref of ackedRefs) {
        const copies = canonical.get(ref) ?? [];
        const ids = copies.map((c) => c.id);
        const o = offered.get(ref)!;
        if (ids.length === 0) {
          lost++;
          problems.push(
            `${ref} (${o.via} ${o.producer}) was acknowledged and is not on ${canonicalTopic(TOPIC)}`,
          );
          continue;
        }
        if (ids.length > 1) {
          // Exactly once on the canonical topic: the key is reserved before the write (idempotency.ts).
          canonicalDuplicates++;
          duplicatesSeen.push(`${ref} (${o.via} ${o.producer}) ×${ids.length}, one event id`);
          problems.push(
            `${ref} (${o.via} ${o.producer}) is on ${canonicalTopic(TOPIC)} ${ids.length} times (${copies.map((c) => c.at).join("; ")})`,
          );
        }
        if (new Set(ids).size > 1) problems.push(`${ref} has different event ids on the canonical topic`);
        if (o.eventId && ids[0] !== o.eventId)
          problems.push(`${ref}: the receipt's event id is not the canonical one`);
        const missingAt = followed.filter((c) => !received.get(c)!.has(ref));
        if (missingAt.length > 0) {
          lost++;
          problems.push(`${ref} was not delivered to ${missingAt.join(", ")}`);
        }
      }
      let delivered = 0;
      let repeatsAcrossInstances = 0;
      for (const c of followed) {
        for (const [ref, ids] of received.get(c)!) {
          if (!ref.startsWith(w.prefix)) continue;
          delivered++;
          if (new Set(ids).size > 1)
            problems.push(`${c} got ${ref} under different event ids: ${ids.join(", ")}`);
          repeatsAcrossInstances += ids.length - 1;
        }
      }
      // The SDK's own dedupe on Kafka: every record on a followed delivery topic beyond the first per event id.
      for (const party of ["nla", "svb"]) {
        const recs = await readToEnd(config, {
          topic: deliveryTopic(party, TOPIC),
          from: w.from,
          timeoutMs: 60_000,
          map: (m) => header(m.headers, BUS_HEADERS.eventId),
        }).catch(() => [] as string[]);
        const ids = new Set(eventIds);
        const per = new Map<string, number>();
        for (const id of recs) if (ids.has(id)) per.set(id, (per.get(id) ?? 0) + 1);
        for (const n of per.values()) sdkDropped += n - 1;
      }
      const rows = await auditRows(eventIds);
      let duplicatedDisclosures = 0;
      let undisclosed = 0;
      for (const r of rows) {
        if (Number(r.n) > 1 && r.action === "DISCLOSE") {
          duplicatedDisclosures++;
          problems.push(`${r.n} DISCLOSE records of ${r.event_id} to ${r.recipient}`);
        }
      }
      const disclosed = new Set(
        rows.filter((r) => r.action === "DISCLOSE").map((r) => `${r.event_id}|${r.recipient}`),
      );
      for (const ref of ackedRefs) {
        const id = canonical.get(ref)?.[0]?.id;
        if (!id) continue;
        for (const p of expected) if (!disclosed.has(`${id}|${p}`)) undisclosed++;
      }
      if (undisclosed > 0) problems.push(`${undisclosed} deliveries without a DISCLOSE record`);
      const auditMissing = logIds.filter((id) => !storedIds.has(id)).length;
      const storedTwice = [...storedIds.values()].filter((n) => n > 1).length;
      if (auditMissing > 0) problems.push(`${auditMissing} records of audit.log are not in the audit store`);
      if (storedTwice > 0) problems.push(`${storedTwice} audit records stored more than once`);
      const agencyMissing = agencyExpected.filter((r) => !effects.has(r)).length;
      const agencyDuplicates = [...effects.values()].filter((n) => n > 1).length;
      const inbox = await pgPool.query<{ n: string; d: string }>(
        `SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM ${agencySchema}.inbox WHERE event_id = ANY($1)`,
        [eventIds],
      );
      if (agencyMissing > 0) problems.push(`the agency did not apply ${agencyMissing} events`);
      if (inbox.rows[0]!.n !== inbox.rows[0]!.d) problems.push("the agency's inbox holds an event twice");
      const dead = await pgPool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${agencySchema}.dead_letters WHERE event_id = ANY($1)`,
        [eventIds],
      );
      if (Number(dead.rows[0]!.n) > 0) problems.push(`the agency parked ${dead.rows[0]!.n} of these events`);
      // audit:verify, as an operator runs it, on the store as it is now.
      const verify = await run$(
        process.execPath,
        ["--import", "tsx", path.join(REPO_ROOT, "services/audit/src/verify-cli.ts")],
        {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            AUDIT_DATABASE_URL: owner,
            AUDIT_DB_SCHEMA: auditSchema,
            AUDIT_CHECKPOINT_KEY: checkpointKey,
          },
          timeout: 180_000,
        },
      ).then(
        () => true,
        (err: { stdout?: string; stderr?: string; message: string }) => {
          problems.push(
            `audit:verify failed: ${(err.stdout ?? "") + (err.stderr ?? "") || err.message}`.slice(0, 2000),
          );
          return false;
        },
      );
      const now2 = crashes();
      const crashed = Object.fromEntries(
        Object.entries(now2).map(([k, v]) => [k, v - (w.crashBase[k] ?? 0)]),
      );
      const ingressRefusals = refusals.filter((r) => r.startsWith(w.prefix));
      for (const r of ingressRefusals) problems.push(`ingress refusal: ${r}`);
      const figures: FaultFigures = {
        fault: w.fault,
        repetitions,
        offered: mine.length,
        acknowledged: acked.length,
        delivered,
        lost,
        canonicalDuplicates,
        duplicatedDisclosures,
        undisclosed,
        auditMissing,
        rawDeliveryRepeats: sdkDropped,
        repeatsAcrossInstances,
        agencyMissing,
        agencyDuplicates,
        auditVerified: verify,
        recoveryMs,
        recoveryAckMs: w.recoveryAckMs,
        crashes: crashed,
        ingressRefusals: ingressRefusals.length,
        notAcknowledged: Object.entries(
          mine
            .filter((o) => !o.ackedAt)
            .reduce<Record<string, number>>((m, o) => {
              const why = (o.failed ?? "still open").slice(0, 120);
              m[why] = (m[why] ?? 0) + 1;
              return m;
            }, {}),
        ).map(([reason, n]) => ({ reason, n })),
        canonicalDuplicateRefs: duplicatesSeen,
        problems,
      };
      sdkDropped = 0;
      return figures;
    },
    churn: { join },
    async stop() {
      polling = false;
      await Promise.allSettled([
        nlaSub.stop(),
        ...[...members].map((m) => m.stop()),
        refusalWatch.stop(),
        ingress.close(),
        ...pollers,
      ]);
      await Promise.allSettled([agency.stop(), audit.stop()]);
      await Promise.allSettled(gateways.map((g) => g.stop()));
      await pgPool.end().catch(() => {});
      await pg.destroy();
      fs.rmSync(keysDir, { recursive: true, force: true });
    },
  };
  return bus;
}

export type { Json };
