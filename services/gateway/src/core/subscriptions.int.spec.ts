import http from "node:http";
import {
  startGroupsAtEnd,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
} from "@grondslag/infra/test";
import { exampleEvent } from "@grondslag/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChildGateway, type ChildGateway } from "./child-gateway";

const stack = testStack();
const credentials = testCredentialsFile();
const TOPIC = "arbo.accident-reported";
const DELIVERIES = `/v1/topics/${TOPIC}/deliveries`;
const UITLENER = "uitlener.90000001";
const MAX_STREAMS = 3;

interface Frame {
  event?: string;
  id?: string;
  data?: string;
  comment?: boolean;
}

/** An SSE client on a raw socket: it can stop reading (pause) or go away (destroy) like a real one. */
function openStream(base: string, token: string, opts: { read?: boolean } = {}) {
  const frames: Frame[] = [];
  let status = 0;
  let headers: http.IncomingHttpHeaders = {};
  let buffered = "";
  let ended = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  const req = http.request(`${base}${DELIVERIES}?max=500`, {
    agent: false,
    headers: {
      authorization: `Bearer ${token}`,
      doelbinding: "lsi-samenwerking",
      accept: "text/event-stream",
    },
  });
  const response = new Promise<void>((resolve, reject) => {
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      resolve();
      if (opts.read === false) {
        res.pause();
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let i: number;
        while ((i = buffered.indexOf("\n\n")) >= 0) {
          const raw = buffered.slice(0, i);
          buffered = buffered.slice(i + 2);
          const f: Frame = {};
          for (const line of raw.split("\n")) {
            if (line.startsWith(":")) f.comment = true;
            else if (line.startsWith("event: ")) f.event = line.slice(7);
            else if (line.startsWith("id: ")) f.id = line.slice(4);
            else if (line.startsWith("data: ")) f.data = line.slice(6);
          }
          frames.push(f);
        }
        notify();
      });
      res.on("end", () => {
        ended = true;
        notify();
      });
    });
    req.on("error", (err) => {
      ended = true;
      notify();
      reject(err);
    });
  });
  req.end();
  return {
    frames,
    response,
    status: () => status,
    headers: () => headers,
    ended: () => ended,
    deliveries: () =>
      frames
        .filter((f) => f.event === "delivery")
        .map((f) => JSON.parse(f.data ?? "{}") as { eventId: string; cursor: string; producer?: string }),
    async until(what: string, ms: number, cond: () => boolean) {
      if (cond()) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${what}: not within ${ms} ms`));
        }, ms);
        const check = () => {
          if (cond()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
      });
    },
    close() {
      req.destroy();
    },
  };
}

async function until(what: string, ms: number, cond: () => Promise<boolean>) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A probe that calls /healthz and /readyz and reads RSS every 200 ms while the scenario runs. */
function probe(gw: ChildGateway) {
  const seen = { healthzMaxMs: 0, readyzMaxMs: 0, rssMaxMb: 0, failures: [] as string[], samples: 0 };
  let running = true;
  const timed = async (path: string) => {
    const t0 = Date.now();
    try {
      const res = await fetch(`${gw.base}${path}`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.status !== 200) seen.failures.push(`${path} answered ${res.status}`);
    } catch (err) {
      seen.failures.push(`${path}: ${(err as Error).message}`);
    }
    return Date.now() - t0;
  };
  const loop = (async () => {
    while (running && !gw.exited()) {
      const [h, r] = await Promise.all([timed("/healthz"), timed("/readyz")]);
      seen.healthzMaxMs = Math.max(seen.healthzMaxMs, h);
      seen.readyzMaxMs = Math.max(seen.readyzMaxMs, r);
      try {
        const rss = gw.rssMb();
        seen.rssMaxMb = Math.max(seen.rssMaxMb, rss);
        // A bounded reproduction of the outage: never let a runaway gateway take the machine's memory.
        if (rss > 1024) {
          seen.failures.push(`RSS ${rss.toFixed(0)} MB: killed`);
          gw.kill();
        }
      } catch {
        // the process is gone
      }
      seen.samples++;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

async function openStreamsMetric(gw: ChildGateway): Promise<number> {
  const text = await (await fetch(`${gw.base}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  return Number(/^gateway_http_open_streams (\d+)/m.exec(text)?.[1] ?? "NaN");
}

describe("HTTP subscriptions under the outage's load (a gateway in its own process, on the real stack)", () => {
  let gw: ChildGateway;

  beforeAll(async () => {
    // Groups of its own, started at the topics' ends: the delivery worker and uwv's HTTP mailbox see this spec's
    // events only. With the operator's default prefix it would first catch up on whatever the stack holds (every
    // canonical record other specs, the bench or npm start wrote since that group last ran), and the bounds below
    // would measure that backlog instead of this spec's outage.
    const prefix = uniqueName("grondslag.gateway.subs");
    const admin = testKafka(stack).admin();
    await admin.connect();
    const canonical = (await admin.listTopics().finally(() => admin.disconnect())).filter((t) =>
      t.startsWith("events."),
    );
    await startGroupsAtEnd(stack, {
      [`${prefix}.deliver`]: canonical,
      [`${prefix}.http.uwv.${TOPIC}`]: [`deliver.uwv.${TOPIC}`],
    });
    gw = await startChildGateway(stack, credentials, {
      limits: { streamKeepAliveSeconds: 1, streamSeconds: 120, streamsPerParty: MAX_STREAMS },
      // It publishes over HTTP: no ingress worker, so it takes no other spec's ingress records.
      workers: ["delivery"],
      env: { GATEWAY_GROUP_PREFIX: prefix },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const publish = async (count: number) => {
    const res = await fetch(`${gw.base}/v1/topics/${TOPIC}/event-batches`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await gw.token(UITLENER)}`,
        grondslag: "meld-vergewisplicht-uitleners",
        doelbinding: "ongevalsmelding",
        "content-type": "application/json",
      },
      body: JSON.stringify({
        events: Array.from({ length: count }, () => ({
          data: { ...exampleEvent(TOPIC), reportReference: uniqueName("ref") },
          idempotencyKey: uniqueName("idem"),
        })),
      }),
    });
    const body = (await res.json()) as { accepted: number; results: { receipt?: { eventId: string } }[] };
    expect(body.accepted).toBe(count);
    return body.results.map((r) => r.receipt?.eventId ?? "");
  };

  it("an open stream over uncommitted events stays quiet, the gateway stays ready and small, streams are released", async () => {
    const backlog = await publish(200);
    const token = await gw.token("uwv");
    const watch = probe(gw);
    try {
      // The outage: uwv opens the documented stream while its mailbox holds uncommitted events.
      const a = openStream(gw.base, token);
      await a.response;
      expect(a.status()).toBe(200);
      // Other specs on the same stack publish accident reports too, and this gateway (the default groups) may
      // deliver them to uwv while it runs, or a backlog of them left by an earlier run: the stream carries every
      // one of ours, and resends nothing.
      const missing = (s: typeof a) => {
        const seen = new Set(s.deliveries().map((d) => d.eventId));
        return backlog.filter((id) => !seen.has(id));
      };
      await a.until("the backlog on stream A", 45_000, () => missing(a).length === 0);
      // Two heartbeats later the stream has had time to resend: it must not (it only sends what is new to it).
      const heartbeats = a.frames.filter((f) => f.comment).length;
      await a.until(
        "two heartbeats",
        10_000,
        () => a.frames.filter((f) => f.comment).length >= heartbeats + 2,
      );
      const ids = a.deliveries().map((d) => d.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(missing(a)).toEqual([]);

      // A client that stops reading, and one that goes away: together with A, the party's limit.
      const b = openStream(gw.base, token, { read: false });
      const c = openStream(gw.base, token);
      await Promise.all([b.response, c.response]);
      await c.until("the backlog on stream C", 30_000, () => missing(c).length === 0);
      const over = openStream(gw.base, token);
      await over.response;
      expect(over.status()).toBe(429);
      expect(over.headers()["retry-after"]).toMatch(/^\d+$/);
      await over.until("the refusal's end", 5000, () => over.ended());

      c.close();
      await until("stream C released", 10_000, async () => (await openStreamsMetric(gw)) === 2);
      const d = openStream(gw.base, token);
      await d.response;
      expect(d.status()).toBe(200);

      // The next valid event reaches the open streams, once each.
      const [next] = await publish(1);
      await a.until("the next event on stream A", 30_000, () =>
        a.deliveries().some((e) => e.eventId === next),
      );
      await d.until("the next event on stream D", 30_000, () =>
        d.deliveries().some((e) => e.eventId === next),
      );
      expect(a.deliveries().filter((e) => e.eventId === next)).toHaveLength(1);

      // Idle with three open streams (one of them not reading): the gateway does (almost) nothing.
      const cpu0 = gw.cpuSeconds();
      const t0 = Date.now();
      await a.until(
        "three more heartbeats",
        10_000,
        () => a.frames.filter((f) => f.comment).length >= heartbeats + 5,
      );
      const cpuShare = (gw.cpuSeconds() - cpu0) / ((Date.now() - t0) / 1000);
      expect(cpuShare).toBeLessThan(0.3);

      for (const s of [a, b, d]) s.close();
      await until("every stream released", 10_000, async () => (await openStreamsMetric(gw)) === 0);
    } finally {
      const seen = await watch.stop();
      process.stderr.write(`outage replay: ${JSON.stringify(seen)}\n`);
      expect(seen.failures).toEqual([]);
      expect(seen.healthzMaxMs).toBeLessThan(1000);
      expect(seen.readyzMaxMs).toBeLessThan(2000);
      expect(seen.rssMaxMb).toBeLessThan(300);
    }
  }, 180_000);

  it("each delivery over HTTP names the party that produced it, in a poll and on a stream", async () => {
    const [eventId] = await publish(1);
    const token = await gw.token("uwv");
    let found: { producer?: string } | undefined;
    const deadline = Date.now() + 45_000;
    while (!found && Date.now() < deadline) {
      const res = await fetch(`${gw.base}${DELIVERIES}?max=500&wait=5`, {
        headers: { authorization: `Bearer ${token}`, doelbinding: "lsi-samenwerking" },
      });
      expect(res.status).toBe(200);
      const { events } = (await res.json()) as { events: { eventId: string; producer?: string }[] };
      found = events.find((e) => e.eventId === eventId);
    }
    expect(found?.producer).toBe(UITLENER);
    const stream = openStream(gw.base, token);
    try {
      await stream.until("the event on a stream", 30_000, () =>
        stream.deliveries().some((e) => e.eventId === eventId),
      );
      expect(stream.deliveries().find((e) => e.eventId === eventId)?.producer).toBe(UITLENER);
    } finally {
      stream.close();
    }
  }, 120_000);
});
