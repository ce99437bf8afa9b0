import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../app";
import { signToken } from "../auth/dev-keys";
import { staticKeyStore } from "../auth/keys";
import type { DeliveredEvent } from "../ports";

// The stream loop over a real socket (loopback): what backpressure and a departing client do to it. The core is a
// stand-in that always has another event, the worst case for the loop; the real core is in subscriptions.int.spec.

const big = (n: number): DeliveredEvent => ({
  eventId: `e${n}`,
  topic: "arbo.accident-reported",
  cursor: `c${n}`,
  producer: "uitlener.90000001",
  grondslag: "suwi-art64",
  purpose: "lsi-samenwerking",
  data: { blob: "x".repeat(256 * 1024) },
});

async function serve() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  const pub = { ...(await exportJWK(publicKey)), alg: "EdDSA", kid: "k1" };
  const token = await signToken(
    { ...(await exportJWK(privateKey)), alg: "EdDSA", kid: "k1" },
    {
      party: "uwv",
      issuer: "grondslag-dev",
      audience: "grondslag-gateway",
      ttlSeconds: 300,
      now: new Date(),
    },
  );
  const core = { handedOut: 0, closed: 0 };
  // At most this many (50 MB): a loop that ignores backpressure shows here without taking the test's memory.
  const CAP = 200;
  const one = () => (core.handedOut < CAP ? [big(core.handedOut++)] : []);
  // Each turn takes a timer tick, as a real fetch would: the event loop stays free for the test itself.
  const tick = () => new Promise((r) => setTimeout(r, 2));
  const metrics = new Registry();
  const app = createApp({
    publisher: {
      publish: () => Promise.reject(new Error("unused")),
      publishBatch: () => Promise.resolve([]),
    },
    subscriptions: {
      poll: async () => {
        await tick();
        return { events: one() };
      },
      stream: () =>
        Promise.resolve({
          next: async () => {
            await tick();
            return one();
          },
          close: () => {
            core.closed++;
          },
        }),
      commit: () => Promise.resolve(),
      refused: () => Promise.resolve(),
    },
    readiness: {
      names: ["kafka", "registry"],
      check: () => Promise.resolve({ checks: { kafka: true, registry: true } }),
    },
    auth: {
      keyStore: staticKeyStore([{ party: "uwv", keys: [pub] }]),
      audience: "grondslag-gateway",
      issuers: ["grondslag-dev"],
    },
    log: pino({ level: "silent" }),
    now: () => new Date(),
    metrics,
    rateLimit: false,
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const open = (read: boolean) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: "/v1/topics/arbo.accident-reported/deliveries",
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        doelbinding: "lsi-samenwerking",
        accept: "text/event-stream",
      },
    });
    const received = { bytes: 0 };
    const response = new Promise<http.IncomingMessage>((resolve) =>
      req.on("response", (res) => {
        if (read) res.on("data", (d: Buffer) => (received.bytes += d.length));
        else res.pause();
        resolve(res);
      }),
    );
    req.on("error", () => undefined);
    req.end();
    return { req, response, received };
  };
  const openStreams = async () =>
    Number(/^gateway_http_open_streams (\d+)/m.exec(await metrics.metrics())?.[1] ?? "NaN");
  return {
    core,
    open,
    openStreams,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function until(what: string, ms: number, cond: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the stream loop on a real socket", () => {
  let s: Awaited<ReturnType<typeof serve>> | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it("stops taking events from the core while a client does not read (backpressure)", async () => {
    s = await serve();
    const client = s.open(false);
    await client.response;
    const core = s.core;
    // Once the socket's buffers are full the loop must wait for 'drain': the core is asked for nothing more. A
    // loop that ignores it asks every tick (2 ms): it settles only at the stand-in's cap.
    await until("the socket to fill", 10_000, () => core.handedOut > 0);
    let last = -1;
    await until("the loop to settle (no event taken for 0.5 s)", 20_000, async () => {
      const settled = core.handedOut === last;
      last = core.handedOut;
      if (!settled) await new Promise((r) => setTimeout(r, 500));
      return settled;
    });
    // 256 KiB events: what is held is the socket buffers' worth, a few MB, not what the core could produce.
    process.stderr.write(
      `backpressure: ${core.handedOut} events of 256 KiB taken while the client read nothing\n`,
    );
    expect(core.handedOut).toBeLessThan(64);
    client.req.destroy();
    await until(
      "the stream to be released",
      5000,
      async () => core.closed > 0 && (await s!.openStreams()) === 0,
    );
  });

  it("a reading client keeps getting events; when it goes away the stream ends and is released", async () => {
    s = await serve();
    const client = s.open(true);
    await client.response;
    await until("a few MB received", 10_000, () => client.received.bytes > 4 * 1024 * 1024);
    expect(await s.openStreams()).toBe(1);
    client.req.destroy();
    await until(
      "the stream to be released",
      5000,
      async () => s!.core.closed > 0 && (await s!.openStreams()) === 0,
    );
  });
});
