import { exportJWK, generateKeyPair, type JWK } from "jose";
import { inject, type InjectOptions, type Response as Injected } from "light-my-request";
import { pino } from "pino";
import { Counter, Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { createResponseValidator, type ResponseValidator } from "@grondslag/http-kit/testing";
import { createApp, type AppDeps } from "./app";
import { signToken } from "./auth/dev-keys";
import { staticKeyStore } from "./auth/keys";
import { GatewayError } from "./errors";
import { openApiDocument } from "./http/openapi";
import type {
  DeliveredEvent,
  EdgeRefusal,
  PollRequest,
  PublishCommand,
  PublishReceipt,
  StreamRequest,
} from "./ports";

const T0 = new Date("2026-03-02T08:00:00Z");
let uwvKey: JWK;
let uwvToken: string;
let validator: ResponseValidator;
const keys: { party: string; keys: JWK[] }[] = [];

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  uwvKey = { ...(await exportJWK(privateKey)), alg: "EdDSA", kid: "k1" };
  keys.push({ party: "uwv", keys: [{ ...(await exportJWK(publicKey)), alg: "EdDSA", kid: "k1" }] });
  uwvToken = await token();
  validator = await createResponseValidator(openApiDocument());
});

function token(party = "uwv", ttlSeconds = 900): Promise<string> {
  return signToken(uwvKey, {
    party,
    issuer: "grondslag-dev",
    audience: "grondslag-gateway",
    ttlSeconds,
    now: T0,
  });
}

const receipt = (topic: string, n = 1): PublishReceipt => ({
  eventId: `00000000-0000-4000-8000-00000000000${n}`,
  topic,
  duplicate: false,
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
});

const delivery: DeliveredEvent = {
  eventId: "e1",
  topic: "arbo.accident-reported",
  cursor: "0:7",
  producer: "uitlener.90000001",
  grondslag: "arbowet-art9",
  purpose: "toezicht-arbeidsongevallen",
  data: { subjectKvk: "90000001", severity: "SERIOUS" },
};

interface Harness {
  deps: AppDeps;
  published: PublishCommand[];
  batches: PublishCommand[][];
  polls: PollRequest[];
  streams: StreamRequest[];
  commits: [string, string, string][];
  refusals: EdgeRefusal[];
  call(opts: InjectOptions & { url: string }): Promise<Injected>;
}

function harness(overrides: Partial<AppDeps> = {}): Harness {
  const h = {
    published: [],
    batches: [],
    polls: [],
    streams: [],
    commits: [],
    refusals: [],
  } as unknown as Harness;
  h.deps = {
    publisher: {
      publish: (cmd) => {
        h.published.push(cmd);
        return Promise.resolve(receipt(cmd.topic));
      },
      publishBatch: (cmds) => {
        h.batches.push(cmds);
        return Promise.resolve(
          cmds.map((c, i) =>
            i % 2 === 0
              ? receipt(c.topic, i)
              : new GatewayError(
                  "INVALID_IDENTIFIER",
                  "subjectKvk: not an 8-digit KvK number",
                  "Send 8 digits.",
                  {
                    field: "subjectKvk",
                  },
                ),
          ),
        );
      },
    },
    subscriptions: {
      poll: (req) => {
        h.polls.push(req);
        return Promise.resolve({ events: [delivery] });
      },
      stream: (req) => {
        h.streams.push(req);
        let sent = false;
        return Promise.resolve({
          next: () => {
            if (sent) return Promise.reject(new GatewayError("UNAVAILABLE", "gone", "Reconnect."));
            sent = true;
            return Promise.resolve([delivery]);
          },
          close: () => undefined,
        });
      },
      commit: (party, topic, cursor) => {
        h.commits.push([party, topic, cursor]);
        return Promise.resolve();
      },
      refused: (r) => {
        h.refusals.push(r);
        return Promise.resolve();
      },
    },
    readiness: {
      names: ["kafka", "registry"],
      check: () => Promise.resolve({ checks: { kafka: true, registry: true } }),
    },
    auth: { keyStore: staticKeyStore(keys), audience: "grondslag-gateway", issuers: ["grondslag-dev"] },
    log: pino({ level: "silent" }),
    now: () => T0,
    ...overrides,
  };
  const app = createApp(h.deps);
  h.call = async (opts) => {
    const res = await inject(app, opts);
    // Every response, refusals included, carries the full version and matches the document.
    expect(res.headers["api-version"]).toBe("1.0.0");
    validator.assert({
      method: opts.method ?? "GET",
      path: opts.url,
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
    });
    return res;
  };
  return h;
}

const PUBLISH = "/v1/topics/arbo.accident-reported/events";
const event = { subjectKvk: "90000001", severity: "SERIOUS" };

function publishHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${uwvToken}`,
    grondslag: "arbowet-art9",
    doelbinding: "toezicht-arbeidsongevallen",
    ...extra,
  };
}

function problem(res: Injected): Record<string, unknown> {
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  return res.json();
}

describe("publish", () => {
  it("answers 202 with the receipt, passing party, headers, key and trace to the core", async () => {
    const h = harness();
    const res = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({
        "idempotency-key": "meld-2026-0042",
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      }),
      payload: event,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual(receipt("arbo.accident-reported"));
    expect(h.published).toHaveLength(1);
    expect(h.published[0]).toMatchObject({
      topic: "arbo.accident-reported",
      producer: "uwv",
      grondslag: "arbowet-art9",
      purpose: "toezicht-arbeidsongevallen",
      idempotencyKey: "meld-2026-0042",
      payload: event,
      channel: "http",
    });
    // The caller's trace continues, with the gateway edge as the parent span.
    expect(h.published[0]?.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(h.published[0]?.traceparent).not.toContain("00f067aa0ba902b7");
  });

  it("401 with a bearer challenge, without and with a bad token; the core is never called", async () => {
    const h = harness();
    const none = await h.call({ method: "POST", url: PUBLISH, payload: event });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toBe('Bearer realm="grondslag"');
    expect(problem(none)).toMatchObject({
      code: "UNAUTHENTICATED",
      status: 401,
      detail: "no bearer token was sent",
    });

    const expired = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({ authorization: `Bearer ${await token("uwv", 1)}` }),
      payload: event,
    });
    // The app's clock is T0; a 1 s token issued at T0 is valid, so move the clock for this one.
    expect(expired.statusCode).toBe(202);
    const later = harness({ now: () => new Date(T0.getTime() + 60_000) });
    const res = await later.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({ authorization: `Bearer ${await token("uwv", 1)}` }),
      payload: event,
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer realm="grondslag", error="invalid_token", error_description="the token has expired"',
    );
    expect(later.published).toHaveLength(0);

    const basic = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: { authorization: "Basic dXd2OnB3" },
      payload: event,
    });
    expect(problem(basic).detail).toBe("the Authorization header does not hold a bearer token");
  });

  it("400 MISSING_HEADER naming the header when Grondslag or Doelbinding is absent", async () => {
    const h = harness();
    for (const name of ["grondslag", "doelbinding"] as const) {
      const headers = publishHeaders();
      delete headers[name];
      const res = await h.call({ method: "POST", url: PUBLISH, headers, payload: event });
      expect(res.statusCode).toBe(400);
      expect(problem(res)).toMatchObject({
        code: "MISSING_HEADER",
        field: name === "grondslag" ? "Grondslag" : "Doelbinding",
        instance: PUBLISH,
      });
      expect(problem(res).fix).toMatch(name === "grondslag" ? /Grondslag:/ : /Doelbinding:/);
    }
    const bad = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({ grondslag: "a b" }),
      payload: event,
    });
    expect(problem(bad)).toMatchObject({ code: "INVALID_REQUEST", field: "Grondslag" });
    const key = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({ "idempotency-key": "x".repeat(256) }),
      payload: event,
    });
    expect(problem(key)).toMatchObject({ code: "INVALID_REQUEST", field: "Idempotency-Key" });
    expect(h.published).toHaveLength(0);
  });

  it("404 UNKNOWN_TOPIC for internal and malformed topic names, before the core", async () => {
    const h = harness();
    for (const topic of [
      "events.arbo.accident-reported",
      "deliver.uwv.arbo.accident-reported",
      "audit.log",
      "ingress.uwv",
      "rejected.uwv",
      "ARBO.x",
      "arbo",
      "arbo.accident_reported",
    ]) {
      const res = await h.call({
        method: "POST",
        url: `/v1/topics/${topic}/events`,
        headers: publishHeaders(),
        payload: event,
      });
      expect(res.statusCode, topic).toBe(404);
      expect(problem(res)).toMatchObject({ code: "UNKNOWN_TOPIC", field: "topic" });
    }
    const poll = await h.call({
      url: "/v1/topics/events.arbo.accident-reported/deliveries",
      headers: { authorization: `Bearer ${uwvToken}`, doelbinding: "x" },
    });
    expect(poll.statusCode).toBe(404);
    expect(h.published).toHaveLength(0);
    expect(h.polls).toHaveLength(0);
  });

  it("413 past the body limit, 415 for another media type, 400 for broken JSON or a non-object", async () => {
    const h = harness({ limits: { eventBytes: 1024 } });
    const big = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders(),
      payload: { blob: "x".repeat(2000) },
    });
    expect(big.statusCode).toBe(413);
    expect(problem(big)).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      detail: "the body is larger than 1024 bytes",
    });

    const text = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({ "content-type": "text/plain" }),
      payload: "hello",
    });
    expect(text.statusCode).toBe(415);
    expect(problem(text).code).toBe("UNSUPPORTED_MEDIA_TYPE");

    const broken = await h.call({
      method: "POST",
      url: PUBLISH,
      headers: publishHeaders({ "content-type": "application/json" }),
      payload: "{not json",
    });
    expect(problem(broken)).toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      detail: "the body is not valid JSON",
    });

    const array = await h.call({ method: "POST", url: PUBLISH, headers: publishHeaders(), payload: [event] });
    expect(problem(array).code).toBe("INVALID_REQUEST");
    expect(h.published).toHaveLength(0);
  });

  it("maps the core's refusals to their problems, and hides internal failures", async () => {
    const refusals = [
      new GatewayError(
        "LEGAL_BASIS_NOT_ALLOWED",
        "legal basis x is not allowed for producing arbo.accident-reported",
        "Use arbowet-art9.",
      ),
      new GatewayError("SCHEMA_VIOLATION", "victim.dateOfBirth: expected a date", "Send YYYY-MM-DD.", {
        field: "victim.dateOfBirth",
      }),
      new GatewayError("IDEMPOTENCY_CONFLICT", "key reused", "Use a new key."),
      new GatewayError("UNAVAILABLE", "Kafka did not acknowledge in time", "Retry.", {
        retryAfterSeconds: 5,
      }),
    ];
    for (const err of refusals) {
      const h = harness({
        publisher: { publish: () => Promise.reject(err), publishBatch: () => Promise.reject(err) },
      });
      const res = await h.call({ method: "POST", url: PUBLISH, headers: publishHeaders(), payload: event });
      expect(res.statusCode).toBe(err.status);
      expect(problem(res)).toMatchObject({ code: err.code, detail: err.detail, fix: err.fix });
      if (err.field !== undefined) expect(problem(res).field).toBe(err.field);
      if (err.code === "UNAVAILABLE") expect(res.headers["retry-after"]).toBe("5");
    }
    const h = harness({
      publisher: {
        publish: () => Promise.reject(new Error("secret internals")),
        publishBatch: () => Promise.resolve([]),
      },
    });
    const res = await h.call({ method: "POST", url: PUBLISH, headers: publishHeaders(), payload: event });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain("secret internals");
    expect(problem(res)).toMatchObject({
      code: "INTERNAL",
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
    });
  });

  it("429 RATE_LIMITED with Retry-After once a party's bucket is empty; other parties are unaffected", async () => {
    let now = T0;
    const h = harness({ rateLimit: { perSecond: 1, burst: 2 }, now: () => now });
    const send = () => h.call({ method: "POST", url: PUBLISH, headers: publishHeaders(), payload: event });
    expect((await send()).statusCode).toBe(202);
    expect((await send()).statusCode).toBe(202);
    const limited = await send();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("1");
    expect(problem(limited)).toMatchObject({ code: "RATE_LIMITED" });
    now = new Date(T0.getTime() + 1000);
    expect((await send()).statusCode).toBe(202);
    expect(h.published).toHaveLength(3);
  });
});

describe("batch", () => {
  const BATCH = "/v1/topics/wtta.admission-granted/event-batches";

  it("answers 200 with one result per event, receipts and problems in order", async () => {
    const h = harness();
    const res = await h.call({
      method: "POST",
      url: BATCH,
      headers: publishHeaders(),
      payload: {
        events: [{ data: event, idempotencyKey: "a" }, { data: event }, { data: event, idempotencyKey: "c" }],
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      accepted: number;
      refused: number;
      results: { index: number; outcome: string }[];
    }>();
    expect(body.accepted).toBe(2);
    expect(body.refused).toBe(1);
    expect(body.results.map((r) => [r.index, r.outcome])).toEqual([
      [0, "accepted"],
      [1, "refused"],
      [2, "accepted"],
    ]);
    expect(body.results[1]).toMatchObject({
      problem: { code: "INVALID_IDENTIFIER", field: "subjectKvk", status: 400 },
    });
    expect(h.batches[0]?.map((c) => c.idempotencyKey)).toEqual(["a", undefined, "c"]);
  });

  it("refuses malformed batches whole: no events, too many, a bad item, the Idempotency-Key header", async () => {
    const h = harness({ limits: { batchEvents: 2 } });
    const post = (payload: unknown, headers = publishHeaders()) =>
      h.call({ method: "POST", url: BATCH, headers, payload: payload as object });
    expect(problem(await post({ events: [] }))).toMatchObject({ code: "INVALID_REQUEST", field: "events" });
    expect(problem(await post({ events: [{ data: event }, { data: event }, { data: event }] })).detail).toBe(
      "a batch holds 1 to 2 events, not 3",
    );
    expect(problem(await post({ events: [{ data: event }, { payload: event }] }))).toMatchObject({
      field: "events[1]",
    });
    expect(problem(await post({ events: [{ data: event, idempotencyKey: "" }] }))).toMatchObject({
      field: "events[0].idempotencyKey",
    });
    expect(
      problem(await post({ events: [{ data: event }] }, publishHeaders({ "idempotency-key": "k" }))),
    ).toMatchObject({
      field: "Idempotency-Key",
    });
    expect(h.batches).toHaveLength(0);
  });
});

describe("subscribe", () => {
  const DELIVERIES = "/v1/topics/arbo.accident-reported/deliveries";

  it("long-polls with the purpose, max and wait, and commits a cursor", async () => {
    const h = harness();
    const auth = { authorization: `Bearer ${uwvToken}`, doelbinding: "toezicht-arbeidsongevallen" };
    const res = await h.call({ url: `${DELIVERIES}?max=10&wait=20`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ events: [delivery] });
    expect(h.polls[0]).toMatchObject({
      party: "uwv",
      topic: "arbo.accident-reported",
      purpose: "toezicht-arbeidsongevallen",
      maxEvents: 10,
      waitMs: 20_000,
    });

    const commit = await h.call({
      method: "PUT",
      url: `${DELIVERIES}/cursor`,
      headers: { authorization: `Bearer ${uwvToken}` },
      payload: { cursor: "0:7" },
    });
    expect(commit.statusCode).toBe(200);
    expect(commit.json()).toEqual({ cursor: "0:7" });
    expect(h.commits).toEqual([["uwv", "arbo.accident-reported", "0:7"]]);
  });

  it("400 without Doelbinding or with max/wait out of range; 403 when the core refuses the purpose", async () => {
    const h = harness();
    const noPurpose = await h.call({ url: DELIVERIES, headers: { authorization: `Bearer ${uwvToken}` } });
    expect(problem(noPurpose)).toMatchObject({ code: "MISSING_HEADER", field: "Doelbinding" });
    const auth = { authorization: `Bearer ${uwvToken}`, doelbinding: "toezicht-arbeidsongevallen" };
    expect(problem(await h.call({ url: `${DELIVERIES}?max=0`, headers: auth }))).toMatchObject({
      field: "max",
    });
    expect(problem(await h.call({ url: `${DELIVERIES}?wait=31`, headers: auth }))).toMatchObject({
      field: "wait",
    });
    expect(h.polls).toHaveLength(0);

    const refusing = harness();
    refusing.deps.subscriptions.poll = () =>
      Promise.reject(
        new GatewayError("PURPOSE_NOT_ALLOWED", "purpose x is not yours here", "Name one of yours."),
      );
    const res = await refusing.call({ url: DELIVERIES, headers: auth });
    expect(res.statusCode).toBe(403);
    expect(problem(res).code).toBe("PURPOSE_NOT_ALLOWED");

    const badCursor = await h.call({
      method: "PUT",
      url: `${DELIVERIES}/cursor`,
      headers: { authorization: `Bearer ${uwvToken}` },
      payload: { cursor: "" },
    });
    expect(problem(badCursor)).toMatchObject({ code: "INVALID_REQUEST", field: "cursor" });
  });

  it("streams server-sent events until the core refuses, then ends with a problem event", async () => {
    let turns = 0;
    let closed = 0;
    const h = harness();
    h.deps.subscriptions.stream = () =>
      Promise.resolve({
        next: () => {
          turns++;
          if (turns === 1) return Promise.resolve([delivery]);
          if (turns === 2) return Promise.resolve([]);
          return Promise.reject(new GatewayError("UNAVAILABLE", "Kafka is unreachable", "Reconnect later."));
        },
        close: () => {
          closed++;
        },
      });
    const res = await h.call({
      url: DELIVERIES,
      headers: {
        authorization: `Bearer ${uwvToken}`,
        doelbinding: "toezicht-arbeidsongevallen",
        accept: "text/event-stream",
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const frames = res.body.split("\n\n").filter((f) => f !== "");
    expect(frames[0]).toBe(`id: 0:7\nevent: delivery\ndata: ${JSON.stringify(delivery)}`);
    expect(JSON.parse(frames[0]?.split("data: ")[1] ?? "{}")).toHaveProperty("producer", "uitlener.90000001");
    expect(frames[1]).toBe(": keep-alive");
    expect(frames[2]).toMatch(/^event: problem\ndata: \{.*"code":"UNAVAILABLE"/);
    expect(closed).toBeGreaterThan(0);
  });

  it("passes Last-Event-ID to the core, so a reconnecting stream continues after what it had", async () => {
    const h = harness();
    await h.call({
      url: DELIVERIES,
      headers: {
        authorization: `Bearer ${uwvToken}`,
        doelbinding: "toezicht-arbeidsongevallen",
        accept: "text/event-stream",
        "last-event-id": "eyIwIjoiNyJ9",
      },
    });
    expect(h.streams[0]).toMatchObject({ party: "uwv", after: "eyIwIjoiNyJ9" });
  });

  it("429 TOO_MANY_STREAMS with Retry-After once a party holds its limit of long polls; a slot is freed after", async () => {
    const h = harness({ limits: { longPollsPerParty: 1 } });
    let release: (() => void) | undefined;
    h.deps.subscriptions.poll = (req) => {
      h.polls.push(req);
      return h.polls.length === 1
        ? new Promise((resolve) => {
            release = () => resolve({ events: [] });
          })
        : Promise.resolve({ events: [] });
    };
    const auth = { authorization: `Bearer ${uwvToken}`, doelbinding: "toezicht-arbeidsongevallen" };
    const first = h.call({ url: `${DELIVERIES}?wait=20`, headers: auth });
    await expect.poll(() => h.polls.length).toBe(1);
    const second = await h.call({ url: `${DELIVERIES}?wait=20`, headers: auth });
    expect(second.statusCode).toBe(429);
    expect(problem(second)).toMatchObject({ code: "TOO_MANY_STREAMS" });
    expect(second.headers["retry-after"]).toMatch(/^\d+$/);
    // A poll without `wait` holds nothing, so it is never refused for this.
    expect((await h.call({ url: DELIVERIES, headers: auth })).statusCode).toBe(200);
    release?.();
    expect((await first).statusCode).toBe(200);
    expect((await h.call({ url: `${DELIVERIES}?wait=20`, headers: auth })).statusCode).toBe(200);
  });
});

describe("refusals at the edge are audited", () => {
  const auth = () => ({ authorization: `Bearer ${uwvToken}`, doelbinding: "toezicht-arbeidsongevallen" });

  it("records a REJECT, through the core, for an internal topic name and a refused cursor commit", async () => {
    const h = harness();
    const res = await h.call({ url: "/v1/topics/audit.log/deliveries", headers: auth() });
    expect(res.statusCode).toBe(404);
    const bad = await h.call({
      method: "PUT",
      url: "/v1/topics/arbo.accident-reported/deliveries/cursor",
      headers: auth(),
      payload: { cursor: 7 },
    });
    expect(bad.statusCode).toBe(400);
    h.deps.subscriptions.commit = () =>
      Promise.reject(new GatewayError("NOT_A_CONSUMER", "no open subscription", "Poll first."));
    const refused = await h.call({
      method: "PUT",
      url: "/v1/topics/arbo.accident-reported/deliveries/cursor",
      headers: auth(),
      payload: { cursor: "eyIwIjoiNyJ9" },
    });
    expect(refused.statusCode).toBe(403);
    expect(h.refusals.map((r) => [r.role, r.topic, r.error.code])).toEqual([
      ["recipient", "audit.log", "UNKNOWN_TOPIC"],
      ["recipient", "arbo.accident-reported", "INVALID_REQUEST"],
      ["recipient", "arbo.accident-reported", "NOT_A_CONSUMER"],
    ]);
    const publish = await h.call({
      method: "POST",
      url: "/v1/topics/events.arbo.accident-reported/events",
      headers: publishHeaders(),
      payload: event,
    });
    expect(publish.statusCode).toBe(404);
    expect(h.refusals[3]).toMatchObject({ role: "producer", party: "uwv", grondslag: "arbowet-art9" });
  });

  it("does not audit again what the core refused and audited, nor floods (429) or unauthenticated calls", async () => {
    const h = harness();
    h.deps.subscriptions.poll = () =>
      Promise.reject(new GatewayError("NOT_A_CONSUMER", "not yours", "Ask the contract owner."));
    expect((await h.call({ url: DELIVERIES_URL, headers: auth() })).statusCode).toBe(403);
    expect((await h.call({ url: "/v1/topics/audit.log/deliveries" })).statusCode).toBe(401);
    expect(h.refusals).toHaveLength(0);
  });

  it("answers 503 UNAVAILABLE, not the refusal, when the REJECT record cannot be written", async () => {
    const h = harness();
    h.deps.subscriptions.refused = () => Promise.reject(new Error("TOPIC_AUTHORIZATION_FAILED"));
    const res = await h.call({ url: "/v1/topics/events.arbo.accident-reported/deliveries", headers: auth() });
    expect(res.statusCode).toBe(503);
    expect(problem(res)).toMatchObject({ code: "UNAVAILABLE" });
    expect(res.headers["retry-after"]).toMatch(/^\d+$/);
  });
});

const DELIVERIES_URL = "/v1/topics/arbo.accident-reported/deliveries";

describe("documentation and operations", () => {
  it("serves the document without authentication, readable from any origin", async () => {
    const res = await harness().call({ url: "/v1/openapi.json" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.json<{ info: { version: string } }>().info.version).toBe("1.0.0");
  });

  it("reports liveness, readiness (503 with what is down) and metrics", async () => {
    const h = harness();
    expect((await h.call({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await h.call({ url: "/readyz" })).json()).toEqual({
      status: "ready",
      checks: { kafka: true, registry: true },
    });

    const down = harness({
      readiness: {
        names: ["kafka", "registry"],
        check: () => Promise.resolve({ checks: { kafka: true, registry: false } }),
      },
    });
    const res = await down.call({ url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(problem(res)).toMatchObject({
      code: "UNAVAILABLE",
      detail: "not ready: registry",
      checks: { kafka: true, registry: false },
    });

    const throwing = harness({
      readiness: { names: ["kafka", "registry"], check: () => Promise.reject(new Error("boom")) },
    });
    const failed = await throwing.call({ url: "/readyz" });
    expect(failed.statusCode).toBe(503);
    expect(problem(failed)).toMatchObject({ checks: { kafka: false, registry: false } });
  });

  it("exposes request metrics by route and outcome code in a registry the core shares", async () => {
    const registry = new Registry();
    const core = new Counter({
      name: "gateway_core_events_total",
      help: "core's own",
      registers: [registry],
    });
    core.inc(3);
    const h = harness({ metrics: registry });
    await h.call({ method: "POST", url: PUBLISH, headers: publishHeaders(), payload: event });
    await h.call({ method: "POST", url: PUBLISH, payload: event });
    const res = await h.call({ url: "/metrics" });
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toContain(
      'gateway_http_requests_total{method="POST",route="/v1/topics/:topic/events",status="202",code="OK"} 1',
    );
    expect(res.body).toContain(
      'gateway_http_requests_total{method="POST",route="/v1/topics/:topic/events",status="401",code="UNAUTHENTICATED"} 1',
    );
    expect(res.body).toMatch(
      /gateway_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/v1\/topics\/:topic\/events",status="202"\}/,
    );
    expect(res.body).toContain("gateway_core_events_total 3");
    expect(res.body).not.toContain("uwv");
  });

  it("404 NOT_FOUND as problem+json with API-Version for unknown paths and trailing slashes", async () => {
    const app = createApp(harness().deps);
    for (const url of ["/v1/nothing", "/healthz/", "/v1/topics/arbo.accident-reported/events/"]) {
      const res = await inject(app, { method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers["api-version"]).toBe("1.0.0");
      expect(problem(res).code).toBe("NOT_FOUND");
    }
  });
});
