import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RefusalError } from "./errors";
import { createClient } from "./http";

// The HTTP client against a small real server on loopback, for what a real gateway cannot be made to answer on
// demand (503, 500, a dropped connection). The real gateway's answers are covered in test/e2e/sdk.e2e.spec.ts.

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Handler) {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => handler(req, res, seen.length));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const problem = (
  res: http.ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { "content-type": "application/problem+json", ...headers });
  res.end(
    JSON.stringify({ type: "t", title: "t", status, code, detail: `${code} detail`, fix: `${code} fix` }),
  );
};
const receipt = {
  eventId: "e-1",
  topic: "arbo.accident-reported",
  duplicate: false,
  traceId: "a".repeat(32),
};
const fast = { baseDelayMs: 5, maxDelayMs: 20, deadlineMs: 10_000 };
const opts = { grondslag: "arbowet-art9", purpose: "ongevalsmelding" };

describe("publish retries", () => {
  it("503, 500 and a dropped connection are retried with the same Idempotency-Key and traceparent", async () => {
    const { base, seen } = await serve((req, res, n) => {
      if (n === 1) return problem(res, 503, "UNAVAILABLE");
      if (n === 2) return problem(res, 500, "INTERNAL");
      if (n === 3) return req.socket.destroy();
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify(receipt));
    });
    const attempts: number[] = [];
    const client = createClient<{ "arbo.accident-reported": { a: number } }>({
      baseUrl: base,
      token: () => Promise.resolve("t0k3n"),
      retry: fast,
      onAttempt: (a) => attempts.push(a.attempt),
    });
    const r = await client.publish("arbo.accident-reported", { a: 1 }, opts);
    expect(r).toMatchObject({ eventId: "e-1", duplicate: false });
    expect(seen).toHaveLength(4);
    expect(attempts).toEqual([1, 2, 3, 4]);
    const keys = new Set(seen.map((s) => s.headers["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect(r.idempotencyKey).toBe([...keys][0]);
    expect(new Set(seen.map((s) => s.headers.traceparent)).size).toBe(1);
    expect(seen[0]?.headers).toMatchObject({
      authorization: "Bearer t0k3n",
      grondslag: "arbowet-art9",
      doelbinding: "ongevalsmelding",
      "content-type": "application/json",
    });
    expect(seen[0]?.url).toBe("/v1/topics/arbo.accident-reported/events");
  });

  it("waits what Retry-After asks on a 429, and keeps a key the caller gave", async () => {
    const { base, seen } = await serve((_req, res, n) => {
      if (n === 1) return problem(res, 429, "RATE_LIMITED", { "retry-after": "1" });
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify(receipt));
    });
    const at: number[] = [];
    const client = createClient({
      baseUrl: base,
      token: "t",
      retry: fast,
      onAttempt: () => at.push(Date.now()),
    });
    const r = await client.publish("x.y", {}, { ...opts, idempotencyKey: "mine-1" });
    expect(r.idempotencyKey).toBe("mine-1");
    expect(seen.map((s) => s.headers["idempotency-key"])).toEqual(["mine-1", "mine-1"]);
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it("never retries a refusal that is not retriable; gives up on a retriable one at the deadline", async () => {
    const { base, seen } = await serve((_req, res) => problem(res, 403, "PURPOSE_NOT_ALLOWED"));
    const client = createClient({ baseUrl: base, token: "t", retry: fast });
    const err = await client.publish("x.y", {}, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusalError);
    expect(err).toMatchObject({ code: "PURPOSE_NOT_ALLOWED", status: 403, fix: "PURPOSE_NOT_ALLOWED fix" });
    expect(seen).toHaveLength(1);

    const down = await serve((_req, res) => problem(res, 503, "UNAVAILABLE"));
    const impatient = createClient({ baseUrl: down.base, token: "t", retry: { ...fast, maxAttempts: 3 } });
    await expect(impatient.publish("x.y", {}, opts)).rejects.toMatchObject({
      code: "UNAVAILABLE",
      retriable: true,
    });
    expect(down.seen).toHaveLength(3);
  });
});

describe("deliveries", () => {
  const event = (id: string, cursor: string) => ({
    eventId: id,
    topic: "x.y",
    cursor,
    producer: "uwv",
    grondslag: "g",
    purpose: "p",
    data: { n: id },
  });

  it("a poll drops what this client already handed out, but still gives the cursor to commit", async () => {
    const { base, seen } = await serve((req, res, n) => {
      res.writeHead(200, { "content-type": "application/json" });
      if (req.method === "PUT") return res.end(JSON.stringify({ cursor: "c2" }));
      res.end(
        JSON.stringify({ events: n === 1 ? [event("e1", "c1")] : [event("e1", "c1"), event("e2", "c2")] }),
      );
    });
    const client = createClient<{ "x.y": { n: string } }>({ baseUrl: base, token: "t" });
    const first = await client.poll("x.y", { purpose: "p", max: 10, waitSeconds: 1 });
    expect(first.deliveries.map((d) => d.eventId)).toEqual(["e1"]);
    expect(first.deliveries[0]).toMatchObject({ producer: "uwv", value: { n: "e1" }, cursor: "c1" });
    const second = await client.poll("x.y", { purpose: "p" });
    expect(second.deliveries.map((d) => d.eventId)).toEqual(["e2"]);
    expect(second.cursor).toBe("c2");
    await client.commit("x.y", "c2");
    expect(seen[0]?.url).toBe("/v1/topics/x.y/deliveries?max=10&wait=1");
    expect(seen.at(-1)).toMatchObject({ method: "PUT", url: "/v1/topics/x.y/deliveries/cursor" });
  });

  it("a stream that ends is resumed with Last-Event-ID, and a repeat is dropped", async () => {
    const { base, seen } = await serve((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (e: ReturnType<typeof event>) =>
        res.write(`id: ${e.cursor}\nevent: delivery\ndata: ${JSON.stringify(e)}\n\n`);
      if (n === 1) {
        res.write(": keep-alive\n\n");
        send(event("e1", "s1"));
        send(event("e2", "s2"));
      } else {
        send(event("e2", "s2"));
        send(event("e3", "s3"));
      }
      res.end();
    });
    const client = createClient({ baseUrl: base, token: "t" });
    const ac = new AbortController();
    const got: string[] = [];
    for await (const d of client.stream("x.y", { purpose: "p", signal: ac.signal })) {
      got.push(d.eventId);
      if (got.length === 3) ac.abort();
    }
    expect(got).toEqual(["e1", "e2", "e3"]);
    expect(seen[0]?.headers["last-event-id"]).toBeUndefined();
    expect(seen[1]?.headers["last-event-id"]).toBe("s2");
    expect(seen[0]?.headers.accept).toBe("text/event-stream");
  });

  it("a problem on the stream ends it with a typed refusal", async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(
        `event: problem\ndata: ${JSON.stringify({ status: 403, code: "NOT_A_CONSUMER", detail: "d", fix: "f" })}\n\n`,
      );
    });
    const client = createClient({ baseUrl: base, token: "t" });
    const iterate = async () => {
      for await (const _ of client.stream("x.y", { purpose: "p" })) void _;
    };
    await expect(iterate()).rejects.toMatchObject({ code: "NOT_A_CONSUMER", status: 403 });
  });
});
