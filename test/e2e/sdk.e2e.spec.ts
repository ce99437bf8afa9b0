import { readCredential } from "@grondslag/provision";
import {
  startGroupsAtEnd,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
  within,
} from "@grondslag/infra/test";
import { exampleEvent, type TopicMap } from "@grondslag/schemas";
import {
  createClient,
  createIngressPublisher,
  createKafkaSubscriber,
  ensureKeyPair,
  type IngressRefusalError,
  RefusalError,
  tokenSigner,
  type Delivery,
} from "@grondslag/sdk";
import { deliveryTopic } from "@grondslag/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ISSUER, startGateway } from "../src/gateway-harness";

/**
 * The parties' client against the real gateway on the real stack: every path a party has (HTTP publish, Kafka
 * ingress; long poll, server-sent events, Kafka delivery), refusals as typed errors, and a real 429 retried.
 */
const stack = testStack();
const credentials = testCredentialsFile();
const UITLENER = "uitlener.90000001";
/** The ingress party of this spec (its gateway reads only this party's ingress topic). */
const SZW = "szw.toelating";
const ACCIDENT = "arbo.accident-reported";
const ADMISSION = "wtta.admission-granted";
const as = (name: string) => ({ name, password: readCredential(credentials, name) });

describe("@grondslag/sdk against the real gateway", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const signers = new Map<string, () => Promise<string>>();
  const token = (party: string) => {
    let signer = signers.get(party);
    if (!signer) {
      const keys = ensureKeyPair(gw.keysDir, party);
      const signing = keys.then(({ privateJwk }) => tokenSigner({ party, privateJwk, issuer: ISSUER }));
      signer = async () => (await signing)();
      signers.set(party, signer);
    }
    return signer;
  };
  const client = (party: string, baseUrl = gw.base) =>
    createClient<TopicMap>({ baseUrl, token: token(party) });
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    gw = await startGateway(stack, credentials, { ingressParties: [SZW] });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await gw.stop();
  });

  /** A Kafka subscriber for `party` on `topic`, its group started at the end; resolves with the delivery `found`. */
  async function kafkaDelivery<K extends keyof TopicMap>(
    party: string,
    topic: K,
    found: (d: Delivery<TopicMap[K]>) => boolean,
  ) {
    const groupId = uniqueName(`${party}.sdk-e2e`);
    await startGroupsAtEnd(stack, { [groupId]: [deliveryTopic(party, topic)] });
    const subscriber = createKafkaSubscriber<TopicMap>({
      kafka: testKafka(stack, as(party)),
      party,
      registry: { baseUrl: gw.base, token: token(party) },
    });
    closers.push(() => subscriber.close());
    let resolve: (d: Delivery<TopicMap[K]>) => void = () => undefined;
    const delivered = new Promise<Delivery<TopicMap[K]>>((r) => (resolve = r));
    await subscriber.subscribe(topic, {
      groupId,
      eachDelivery: (d) => {
        if (found(d)) resolve(d);
      },
    });
    return delivered;
  }

  it("an HTTP publish reaches nla by server-sent events, by long poll with commit, and from Kafka, the same value on each", async () => {
    const reportReference = uniqueName("MELD");
    const fromKafka = kafkaDelivery("nla", ACCIDENT, (d) => d.value.reportReference === reportReference);

    // The stream first: it starts at the committed cursor, before the event.
    const streaming = client("nla");
    const ac = new AbortController();
    const streamed = (async () => {
      for await (const d of streaming.stream(ACCIDENT, { purpose: "ongevalsonderzoek", signal: ac.signal })) {
        if (d.value.reportReference === reportReference) return d;
      }
      return undefined;
    })();

    const receipt = await client(UITLENER).publish(
      ACCIDENT,
      { ...exampleEvent(ACCIDENT), reportReference },
      { grondslag: "meld-vergewisplicht-uitleners", purpose: "ongevalsmelding" },
    );
    expect(receipt).toMatchObject({ topic: ACCIDENT, duplicate: false });
    expect(receipt.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);

    const sse = await within(45_000, "the stream's delivery", streamed);
    ac.abort();
    expect(sse).toMatchObject({
      eventId: receipt.eventId,
      topic: ACCIDENT,
      producer: UITLENER,
      // The delivery names the recipient's own legal basis: the Arbeidsinspectie investigates under the Arbowet.
      grondslag: "arbowet-art9",
      purpose: "ongevalsonderzoek",
    });
    expect(sse?.value.injury?.nature).toBe("FRACTURE");
    // The stream's delivery continues the publish's trace: the DISCLOSE's span, the caller's trace id.
    expect(sse?.traceparent).toMatch(new RegExp(`^00-${receipt.traceId}-[0-9a-f]{16}-0[01]$`));

    // Long poll and commit, with another client (each client drops only what it handed out itself).
    const polling = client("nla");
    let polled: Delivery<TopicMap[typeof ACCIDENT]> | undefined;
    const deadline = Date.now() + 45_000;
    while (!polled && Date.now() < deadline) {
      const { deliveries, cursor } = await polling.poll(ACCIDENT, {
        purpose: "ongevalsonderzoek",
        waitSeconds: 2,
      });
      polled = deliveries.find((d) => d.eventId === receipt.eventId);
      if (cursor) await polling.commit(ACCIDENT, cursor);
    }
    expect(polled?.value).toEqual(sse?.value);
    expect(polled?.traceparent).toBe(sse?.traceparent);
    // Committed: it does not come again, not even to a client that has not seen it.
    const after = await client("nla").poll(ACCIDENT, { purpose: "ongevalsonderzoek" });
    expect(after.deliveries.map((d) => d.eventId)).not.toContain(receipt.eventId);

    // Kafka: decoded with nla's projected schema through the window, into the same JSON form as over HTTP.
    const kafka = await within(45_000, "the Kafka delivery", fromKafka);
    expect(kafka).toMatchObject({
      eventId: receipt.eventId,
      producer: UITLENER,
      purpose: "ongevalsonderzoek",
    });
    expect(kafka.value).toEqual(sse?.value);
    expect(kafka.traceparent).toContain(receipt.traceId);
  });

  it("uwv's Kafka view is its projection: no health data, only the fields its contract names", async () => {
    const reportReference = uniqueName("MELD");
    const fromKafka = kafkaDelivery("uwv", ACCIDENT, (d) => d.value.reportReference === reportReference);
    await client(UITLENER).publish(
      ACCIDENT,
      { ...exampleEvent(ACCIDENT), reportReference },
      { grondslag: "meld-vergewisplicht-uitleners", purpose: "ongevalsmelding" },
    );
    const d = await within(45_000, "uwv's delivery", fromKafka);
    expect(d.value).not.toHaveProperty("injury");
    expect(Object.keys(d.value.victim ?? {}).sort()).toEqual(["agencyWorker", "bsn"]);
    expect(d.grondslag).toBe("suwi-art64");
  });

  it("Kafka ingress: szw.toelating's event reaches svb; a refused record comes back as an IngressRefusalError", async () => {
    const admissionNumber = uniqueName("WTTA");
    const fromKafka = kafkaDelivery("svb", ADMISSION, (d) => d.value.admissionNumber === admissionNumber);
    const publisher = createIngressPublisher<TopicMap>({
      kafka: testKafka(stack, as(SZW)),
      party: SZW,
      registry: { baseUrl: gw.base, token: token(SZW) },
    });
    closers.push(() => publisher.close());
    const refusals: IngressRefusalError[] = [];
    let refused: (e: IngressRefusalError) => void = () => undefined;
    const refusal = new Promise<IngressRefusalError>((r) => (refused = r));
    await publisher.watchRefusals({
      groupId: uniqueName(`${SZW}.sdk-e2e`),
      onRefusal: (e) => {
        refusals.push(e);
        if (e.idempotencyKey === wrongKey) refused(e);
      },
    });

    const event = { ...exampleEvent(ADMISSION), admissionNumber };
    const sent = await publisher.publish(ADMISSION, event, {
      grondslag: "waadi-wtta-toelating",
      purpose: "toelating-uitleners",
    });
    expect(sent.partition).toBeGreaterThanOrEqual(0);
    const d = await within(45_000, "svb's delivery", fromKafka);
    expect(d).toMatchObject({
      producer: SZW,
      grondslag: "waadi-wtta-toelating",
      purpose: "openbaar-register",
    });
    expect(d.value).toEqual(JSON.parse(JSON.stringify(event)));
    expect(d.traceparent).toContain(sent.traceparent.split("-")[1]);

    const wrongKey = uniqueName("wrong-purpose");
    await publisher.publish(
      ADMISSION,
      { ...event, admissionNumber: uniqueName("WTTA") },
      { grondslag: "waadi-wtta-toelating", purpose: "lsi-samenwerking", idempotencyKey: wrongKey },
    );
    const err = await within(45_000, "the refusal on rejected.szw.toelating", refusal);
    expect(err).toBeInstanceOf(RefusalError);
    expect(err).toMatchObject({
      code: "PURPOSE_NOT_ALLOWED",
      status: 403,
      retriable: false,
      topic: ADMISSION,
    });
    expect(err.fix).not.toBe("");
    expect(refusals.map((r) => r.idempotencyKey)).not.toContain(sent.idempotencyKey);

    // A value that does not fit the schema never leaves the client.
    await expect(
      publisher.publish(ADMISSION, { ...event, securityDepositCents: "lots" } as never, {
        grondslag: "waadi-wtta-toelating",
        purpose: "toelating-uitleners",
      }),
    ).rejects.toMatchObject({ code: "SCHEMA_VIOLATION", field: "securityDepositCents" });
  });

  it("HTTP refusals are RefusalErrors with the rule's code, its fix and the trace", async () => {
    const uitlener = client(UITLENER);
    const wrongPurpose = await uitlener
      .publish(ACCIDENT, exampleEvent(ACCIDENT), {
        grondslag: "meld-vergewisplicht-uitleners",
        purpose: "lsi-samenwerking",
      })
      .catch((e: unknown) => e);
    expect(wrongPurpose).toBeInstanceOf(RefusalError);
    expect(wrongPurpose).toMatchObject({ code: "PURPOSE_NOT_ALLOWED", status: 403, retriable: false });
    expect((wrongPurpose as RefusalError).fix).toMatch(/Doelbinding/);
    expect((wrongPurpose as RefusalError).traceId).toMatch(/^[0-9a-f]{32}$/);

    const badDate = exampleEvent(ACCIDENT);
    const invalid = await uitlener
      .publish(
        ACCIDENT,
        { ...badDate, victim: { ...badDate.victim, dateOfBirth: "17-05-1994" } },
        { grondslag: "meld-vergewisplicht-uitleners", purpose: "ongevalsmelding" },
      )
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: "SCHEMA_VIOLATION", field: "victim.dateOfBirth", status: 400 });

    await expect(
      client("gemeente.schiedam").poll(ACCIDENT, { purpose: "huisvestingstoezicht" }),
    ).rejects.toMatchObject({ code: "NOT_A_CONSUMER", status: 403 });
  });

  it("a batch answers per event: accepted with a receipt, refused with a typed error", async () => {
    const ok = { ...exampleEvent(ACCIDENT), reportReference: uniqueName("MELD") };
    const outcomes = await client(UITLENER).publishBatch(
      ACCIDENT,
      [{ value: ok }, { value: { ...ok, reportReference: uniqueName("MELD"), subjectKvk: "90000002" } }],
      { grondslag: "meld-vergewisplicht-uitleners", purpose: "ongevalsmelding" },
    );
    expect(outcomes.map((o) => o.outcome)).toEqual(["accepted", "refused"]);
    const [accepted, refused] = outcomes;
    expect(accepted?.outcome === "accepted" && accepted.receipt.eventId).toMatch(/\S/);
    expect(refused?.outcome === "refused" && refused.error).toMatchObject({
      code: "BINDING_VIOLATED",
      retriable: false,
    });
    expect(refused?.outcome === "refused" && refused.error.fix).toMatch(/\S/);
  });

  it("a real 429 is retried after Retry-After with the same idempotency key", async () => {
    const tight = await gw.listen({ rateLimit: { perSecond: 1, burst: 1 } });
    const attempts: { attempt: number; key: string | undefined; code: unknown; at: number }[] = [];
    const limited = createClient<TopicMap>({
      baseUrl: tight,
      token: token(UITLENER),
      onAttempt: (a) =>
        attempts.push({
          attempt: a.attempt,
          key: a.idempotencyKey,
          code: (a.error as RefusalError | undefined)?.code,
          at: Date.now(),
        }),
    });
    const opts = { grondslag: "meld-vergewisplicht-uitleners", purpose: "ongevalsmelding" };
    await limited.publish(ACCIDENT, { ...exampleEvent(ACCIDENT), reportReference: uniqueName("MELD") }, opts);
    attempts.length = 0;
    const second = await limited.publish(
      ACCIDENT,
      { ...exampleEvent(ACCIDENT), reportReference: uniqueName("MELD") },
      opts,
    );
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.slice(1).every((a) => a.code === "RATE_LIMITED")).toBe(true);
    expect(new Set(attempts.map((a) => a.key))).toEqual(new Set([second.idempotencyKey]));
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(second.duplicate).toBe(false);
  });
});
