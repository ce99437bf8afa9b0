import csr from "@kafkajs/confluent-schema-registry";
import { readUntil, testCredentialsFile, testStack, uniqueName } from "@grondslag/infra/test";
import { readCredential } from "@grondslag/provision";
import { exampleEvent } from "@grondslag/schemas";
import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../src/gateway-harness";

const stack = testStack();
const credentials = testCredentialsFile();
const UITLENER = "uitlener.90000001";
const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

/**
 * A party decodes what it receives with a standard deserializer pointed at the gateway's read-only registry window
 * (`/v1/registry`), with its own token: it needs no registry account, and sees only its own subjects.
 */
describe("the gateway's read-only registry window, end to end", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let uwvToken: string;
  let window: InstanceType<typeof csr.SchemaRegistry>;

  beforeAll(async () => {
    gw = await startGateway(stack, credentials);
    uwvToken = await gw.token("uwv");
    // What @kafkajs/confluent-schema-registry sends with `auth`: HTTP basic, here <party>:<bearer token>.
    window = new csr.SchemaRegistry({
      host: `${gw.base}/v1/registry`,
      auth: { username: "uwv", password: uwvToken },
    });
  });
  afterAll(() => gw.stop());

  it("uwv decodes its delivery from Kafka with the window, and gets its projection", async () => {
    const ref = uniqueName("ref");
    const published = await gw.call("POST", "/v1/topics/arbo.accident-reported/events", {
      token: await gw.token(UITLENER),
      headers: {
        Grondslag: "meld-vergewisplicht-uitleners",
        Doelbinding: "ongevalsmelding",
        "Idempotency-Key": uniqueName("k"),
      },
      body: { ...exampleEvent("arbo.accident-reported"), reportReference: ref },
    });
    expect(published.status).toBe(202);
    const { eventId } = published.body as { eventId: string };
    const [decoded] = await readUntil(stack, {
      topic: "deliver.uwv.arbo.accident-reported",
      user: { name: "uwv", password: readCredential(credentials, "uwv") },
      map: async (m) =>
        header(m, "grondslag-event-id") === eventId && m.value
          ? ((await window.decode(m.value)) as Record<string, unknown>)
          : undefined,
      found: (seen) => seen.length > 0,
      timeoutMs: 45_000,
    });
    expect(decoded).toHaveProperty("reportReference", ref);
    expect(decoded).not.toHaveProperty("injury");
    expect(Object.keys(decoded?.victim as object).sort()).toEqual(["agencyWorker", "bsn"]);
  });

  it("lists only uwv's own subjects; another party's view and unknown ids are the same 404", async () => {
    const list = await gw.call("GET", "/v1/registry/subjects", { token: uwvToken });
    expect(list.status).toBe(200);
    const subjects = list.body as string[];
    expect(subjects).toContain("deliver.uwv.arbo.accident-reported-value");
    expect(subjects.filter((s) => s.startsWith("deliver.") && !s.startsWith("deliver.uwv."))).toEqual([]);
    // uwv consumes the accident topic but does not produce it: the canonical schema names health fields.
    expect(subjects).not.toContain("events.arbo.accident-reported-value");

    const nlaView = await gw.call(
      "GET",
      "/v1/registry/subjects/deliver.nla.arbo.accident-reported-value/versions/latest",
      {
        token: uwvToken,
      },
    );
    expect(nlaView.status).toBe(404);
    const nlaId = (
      (
        await gw.call(
          "GET",
          "/v1/registry/subjects/deliver.nla.arbo.accident-reported-value/versions/latest",
          {
            token: await gw.token("nla"),
          },
        )
      ).body as { id: number }
    ).id;
    expect((await gw.call("GET", `/v1/registry/schemas/ids/${nlaId}`, { token: uwvToken })).status).toBe(404);
    expect(
      (await gw.call("GET", `/v1/registry/schemas/ids/${nlaId}`, { token: await gw.token("nla") })).status,
    ).toBe(200);
  });

  it("a producer finds the id of its ingress schema without registering (what a serializer does)", async () => {
    const token = await gw.token(UITLENER);
    const latest = await gw.call(
      "GET",
      "/v1/registry/subjects/events.arbo.accident-reported-value/versions/latest",
      {
        token,
      },
    );
    expect(latest.status).toBe(200);
    const { id, schema } = latest.body as { id: number; schema: string };
    const lookup = await gw.call("POST", "/v1/registry/subjects/events.arbo.accident-reported-value", {
      token,
      body: { schema },
    });
    expect(lookup.status).toBe(200);
    expect((lookup.body as { id: number }).id).toBe(id);
  });

  it("refuses anonymous callers, a basic-auth name that is not the token's party, and every write", async () => {
    expect((await gw.call("GET", "/v1/registry/subjects")).status).toBe(401);
    const impostor = new csr.SchemaRegistry({
      host: `${gw.base}/v1/registry`,
      auth: { username: "nla", password: uwvToken },
    });
    await expect(
      impostor.getLatestSchemaId("deliver.nla.arbo.accident-reported-value"),
    ).rejects.toMatchObject({
      status: 401,
    });
    const schema = { type: "record", name: "Rogue", namespace: "nl.grondslag.rogue", fields: [] };
    // Through the window: there is no write resource.
    await expect(
      window.register(
        { type: csr.SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject: "deliver.uwv.x-value" },
      ),
    ).rejects.toMatchObject({ status: 404 });
    // Straight at the registry with the party's token: no account there.
    const direct = new csr.SchemaRegistry({
      host: stack.registry.url,
      auth: { username: "uwv", password: uwvToken },
    });
    await expect(
      direct.register(
        { type: csr.SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject: "deliver.uwv.x-value" },
      ),
    ).rejects.toMatchObject({ status: 401 });
  });
});
