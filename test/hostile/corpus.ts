/**
 * The hostile input corpus: what a case is, and the few facts its fixtures share. The cases themselves are data
 * (`*.json` beside this file); `avro.generated.json` is written by `avro-attacks.ts` from the schemas, and a unit
 * spec (`test/src/hostile-corpus.unit.spec.ts`) fails when it no longer equals what the generator makes now.
 * `test/e2e/hostile.e2e.spec.ts` runs every case against a real gateway on the real stack.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exampleEvent, type Topic } from "@grondslag/schemas";
import type { JwtSpec } from "./forge";

export const HOSTILE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** What the gateway must answer: an HTTP status and problem code, or the code on `rejected.<party>`. */
export interface Expectation {
  status?: number;
  /** The problem's `code` (HTTP) or `grondslag-reason-code` (Kafka). */
  code?: string;
  /** The problem's `field` or `grondslag-reason-field`; `null`: none may be named. */
  field?: string | null;
  /** Kafka only: the record must be accepted (reach the canonical topic), not refused. */
  accepted?: boolean;
}

/** A record produced raw to `ingress.<party>` with the party's own SCRAM user. */
export interface IngressCase {
  id: string;
  category: string;
  /** Why this is hostile, in a line. */
  note?: string;
  party: string;
  headers: Record<string, string>;
  /** Registry framing: the topic's registered id, another topic's id, a made-up id, a wrong magic byte, none. */
  framing:
    | { kind: "registered" }
    | { kind: "foreign"; topic: Topic }
    | { kind: "id"; id: number }
    | { kind: "magic"; magic: number }
    | { kind: "raw" };
  /** The Avro body (after the 5-byte frame) in hex; `null`: a tombstone (no value at all). */
  bodyHex?: string | null;
  /** Or a valid encoding of an example event with changes (for the contract's and the identifiers' refusals). */
  event?: { topic: Topic; set?: Record<string, unknown>; drop?: string[] };
  expect: Expectation;
}

/**
 * The parties whose ingress this corpus writes: parties no other spec's gateway reads by name (other specs'
 * gateways read uitlener.90000001/2, nla, svb and szw.toelating), so their refusals and acceptances are this
 * corpus's alone.
 */
export const CORPUS_PARTIES = [
  "uwv",
  "belastingdienst",
  "gemeente.schiedam",
  "bzk.rvig",
  "inspectie.sna",
  "inlener.90000101",
] as const;
export type CorpusParty = (typeof CORPUS_PARTIES)[number];

/**
 * Each corpus party's own valid event: the record produced after every group of hostile ones, which must be
 * accepted (it reaches `events.<topic>`), proving the hostile group poisoned nothing.
 */
export const HOME: Record<CorpusParty, { topic: Topic; grondslag: string; purpose: string }> = {
  uwv: { topic: "lsi.signal-raised", grondslag: "suwi-art64", purpose: "lsi-samenwerking" },
  belastingdienst: { topic: "lsi.signal-raised", grondslag: "suwi-art64", purpose: "lsi-samenwerking" },
  "gemeente.schiedam": {
    topic: "brp.stay-address-changed",
    grondslag: "brp-experiment-abo",
    purpose: "brp-adreskwaliteit",
  },
  "bzk.rvig": { topic: "brp.stay-address-provided", grondslag: "wet-brp", purpose: "brp-adreskwaliteit" },
  "inspectie.sna": {
    topic: "inspectie.report-filed",
    grondslag: "waadi-wtta-gegevensuitwisseling",
    purpose: "normenkader-toetsing",
  },
  "inlener.90000101": {
    topic: "arbo.accident-reported",
    grondslag: "arbowet-art9",
    purpose: "ongevalsmelding",
  },
};

/** The schema's example event with values set by dotted path (`victim.bsn`, `persons[0].bsn`). */
export function eventWith(topic: Topic, set: Record<string, unknown> = {}, drop: string[] = []): unknown {
  const event = structuredClone(exampleEvent(topic)) as unknown as Record<string, unknown>;
  const walk = (p: string): [Record<string, unknown>, string] => {
    const parts = p.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== "");
    let at: Record<string, unknown> = event;
    for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
    return [at, parts[parts.length - 1] as string];
  };
  for (const [p, v] of Object.entries(set)) {
    const [at, key] = walk(p);
    at[key] = v;
  }
  for (const p of drop) {
    const [at, key] = walk(p);
    delete at[key];
  }
  return event;
}

export function readFixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(HOSTILE_DIR, name), "utf8")) as T;
}

/** A request body: an example event with changes, literal JSON or text, or one the runner generates. */
export type BodySpec = (
  | { event?: Topic; set?: Record<string, unknown>; drop?: string[] }
  | { json: unknown }
  | { text: string }
  | { hex: string }
  /** `depth` levels of `[` (or `{"a":`) then their closing, as the whole body or as the value of `field`. */
  | { generate: "nested"; depth: number; shape: "array" | "object"; field?: string }
  /** The example event with `field` padded so the body is `bytes` long. */
  | { generate: "pad"; bytes: number; field: string }
  /** `bytes` of JSON whitespace around `{}`: what a compression bomb inflates to. */
  | { generate: "blank"; bytes: number }
  /** The example event with the raw bytes `hex` in place of the value of the string `field` (inside its quotes). */
  | { generate: "raw-in-string"; field: string; hex: string }
  /** A batch of `count` example events (`set` applies to each). */
  | { generate: "batch"; count: number; set?: Record<string, unknown> }
) & {
  /** Content-Encoding applied to the bytes (`gzip`, `deflate`, `br`, or a list like `gzip, gzip`). */
  encoding?: string;
};

/** A request made with fetch: every answer is checked against the OpenAPI document as well. */
export interface HttpCase {
  id: string;
  category: string;
  note?: string;
  /** Whose token (default uitlener.90000001). */
  party?: string;
  method?: string;
  /** Default `/v1/topics/arbo.accident-reported/events`. */
  path?: string;
  /**
   * Default: a valid token of `party`. `authorization` is sent as it is, with `{token}` replaced by a valid token of
   * `party` and `{basic:<user>}` by HTTP basic credentials of that user name with the token as password.
   */
  auth?: "none" | { authorization: string } | { jwt: JwtSpec };
  /** Over the defaults (Grondslag, Doelbinding, a fresh Idempotency-Key, Content-Type); `null` removes one. */
  headers?: Record<string, string | null>;
  /** Default: the example event of the path's topic (POST and PUT only). */
  body?: BodySpec | null;
  /** The same request is sent this many times more first (idempotency cases); the last answer is checked. */
  before?: { body?: BodySpec; party?: string }[];
  expect: Expectation;
}

/** Bytes written to a raw TCP socket: what fetch will not send (CRLF, duplicates, smuggling, obs-fold). */
export interface RawCase {
  id: string;
  category: string;
  note?: string;
  /**
   * The request bytes, with placeholders: {token} (a valid token of uitlener.90000001), {event} and {eventLength}
   * (the example accident as JSON and its byte length), {key}/{key2} (fresh idempotency keys), {trace}/{trace2}
   * (this case's traceparents: a smuggled request carries one, and must never reach a canonical topic), {big}
   * (16 KiB of `a`).
   */
  raw: string;
  expect: Expectation & {
    /** How many responses the bytes may produce (a smuggled second request must not get its own). */
    responses?: number;
  };
}
