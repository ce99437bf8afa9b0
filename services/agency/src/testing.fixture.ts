// Spec helper for agency services: a service's agency on the real PostgreSQL of the test stack, driven through the runtime's own
// transaction path (inbox, handler, outbox, dead letters on Kafka) without its transports. A delivery is made as the gateway makes it: the
// contracts' delivery decision (consumer entry in force, row filter) and the party's projection of the event. What
// the service publishes is judged as the gateway judges it before any I/O: the contract (producer entry, basis,
// purpose, bindings), the topic's schema and the identifiers. The bus round trip itself is the e2e specs' part.
import { randomUUID } from "node:crypto";
import { AgencyRuntime, Store, type Agency, type Outcome } from "@grondslag/agency";
import { checkProduce, consumerView, deliveryDecision, loadCatalogue } from "@grondslag/contracts";
import { databaseUrl } from "@grondslag/infra";
import { dropDbSchema, testCredentialsFile, testStack, uniqueDbSchema } from "@grondslag/infra/test";
import { readCredential } from "@grondslag/provision";
import { identifierProblems, loadSchema, rawSchema, type Topic } from "@grondslag/schemas";
import pino from "pino";
import { Registry } from "prom-client";

export interface OutboxRow {
  id: string;
  topic: Topic;
  value: Record<string, unknown>;
  grondslag: string;
  purpose: string;
}

export interface GatewayVerdict {
  ok: boolean;
  code?: string;
  detail?: string;
}

export async function agencyOnPostgres(agency: Agency, party: string, clock: () => Date) {
  const stack = testStack();
  const catalogue = loadCatalogue();
  const schema = uniqueDbSchema(agency.spec.service.replace(/-/g, "_"));
  const store = new Store(databaseUrl(stack.postgres), schema, 2);
  const runtime = new AgencyRuntime(
    agency.spec,
    {
      party,
      // Never reached: the transports are not started, so nothing is relayed and nothing is consumed.
      gatewayUrl: "http://127.0.0.1:9",
      // The party's own Kafka user: a poison delivery is parked in deadletter.<party> for real.
      brokers: stack.kafka.brokers,
      kafkaPassword: readCredential(testCredentialsFile(), party),
      groupPrefix: `${party}.spec`,
      token: "unused",
      pollSeconds: 1,
      outboxSweepMs: 1_000,
    },
    store,
    catalogue,
    pino({ level: "silent" }),
    new Registry(),
    clock,
  );
  await store.migrate(agency.spec.migrations?.(schema) ?? []);

  return {
    schema,
    /**
     * Delivers `event` (the full event in its JSON form) as the gateway would: "not delivered" when the contracts
     * give this party no delivery of it (no consumer entry in force, or the row filter), else the runtime's outcome
     * of the projected value.
     */
    async deliver(
      topic: Topic,
      event: Record<string, unknown>,
      opts: { producer?: string; eventId?: string } = {},
    ): Promise<Outcome | "not delivered"> {
      const type = loadSchema(topic);
      const avroValue: unknown = type.fromBuffer(type.toBuffer(event));
      const at = clock();
      const disclosure = deliveryDecision(catalogue, topic, avroValue, at, at).find(
        (d) => d.party.id === party,
      );
      if (!disclosure) return "not delivered";
      const view = consumerView(topic, party, rawSchema(topic), disclosure.fields);
      const projected = JSON.parse(JSON.stringify(view.decode(type.toBuffer(avroValue)))) as never;
      return runtime.handle({
        eventId: opts.eventId ?? randomUUID(),
        topic,
        producer: opts.producer ?? "spec",
        grondslag: disclosure.entry.grondslag,
        purpose: disclosure.purpose,
        traceparent: undefined,
        value: projected,
        cursor: "0",
      });
    },
    /** Hands the runtime a value as delivered, unchecked: for a delivery that lacks what a rule needs. */
    async deliverRaw(topic: Topic, value: Record<string, unknown>, producer = "spec"): Promise<Outcome> {
      return runtime.handle({
        eventId: randomUUID(),
        topic,
        producer,
        grondslag: "spec",
        purpose: "spec",
        traceparent: undefined,
        value,
        cursor: "0",
      });
    },
    /** Runs a desk action as the desk API does: the input parsed by its schema, one transaction. */
    async desk(action: string, input: unknown): Promise<unknown> {
      const a = agency.spec.desk?.[action];
      if (!a) throw new Error(`no desk action ${action}`);
      const parsed: unknown = a.input.parse(input);
      return runtime.transaction((ctx) => a.run(ctx, parsed));
    },
    /** GET /state's `state` part. */
    async state<T = Record<string, unknown[]>>(): Promise<T> {
      return ((await runtime.snapshot()) as { state: T }).state;
    },
    async outbox(): Promise<OutboxRow[]> {
      return store.query<OutboxRow & Record<string, never>>(
        `SELECT id::text AS id, topic, value, grondslag, purpose FROM ${schema}.outbox ORDER BY seq`,
      );
    },
    async deadLetters(): Promise<unknown[]> {
      return runtime.deadLetters();
    },
    /** The gateway's checks of a publication that need no I/O: contract, schema, identifiers. */
    gatewayVerdict(row: OutboxRow): GatewayVerdict {
      const contract = checkProduce(catalogue, {
        topic: row.topic,
        party,
        grondslag: row.grondslag,
        purpose: row.purpose,
        at: clock(),
        payload: row.value,
      });
      if (!contract.ok) return { ok: false, code: contract.code, detail: contract.detail };
      if (!loadSchema(row.topic).isValid(row.value)) return { ok: false, code: "SCHEMA_INVALID" };
      const problems = identifierProblems(rawSchema(row.topic), row.value);
      if (problems.length > 0) return { ok: false, code: "INVALID_IDENTIFIER", detail: problems[0]?.message };
      return { ok: true };
    },
    async close(): Promise<void> {
      await runtime.stop();
      await store.close();
      await dropDbSchema(stack, schema);
    },
  };
}
