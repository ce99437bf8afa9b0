import type { GatewayError } from "./errors";

/**
 * What the HTTP edge needs from the core (Kafka, registry, audit). The edge authenticates and parses; the core
 * decides and records. Every refusal is audited by the core: the core's own, and the edge's through
 * `Subscriptions.refused`, so the edge never writes the audit log itself.
 */

/** An authenticated caller: the JWT subject, which is also the party id and the Kafka principal. */
export interface Caller {
  party: string;
  /** The token's `jti`, for the audit trail; never the token itself. */
  tokenId: string | undefined;
}

export interface PublishCommand {
  /** The public topic name (`arbo.accident-reported`); internal names (`events.*`, `deliver.*`) are never accepted. */
  topic: string;
  producer: string;
  /** `Grondslag` header: a legal-basis id from contracts/data/legal-bases.yaml. */
  grondslag: string;
  /** `Doelbinding` header: a purpose id from contracts/data/purposes.yaml. */
  purpose: string;
  /** `Idempotency-Key` header: the same key with the same payload returns the first receipt. */
  idempotencyKey: string | undefined;
  /** W3C `traceparent` header, if the caller sent one. */
  traceparent: string | undefined;
  payload: unknown;
  channel: "http" | "kafka";
}

export interface PublishReceipt {
  eventId: string;
  topic: string;
  /** True when an earlier call with the same idempotency key already published this event. */
  duplicate: boolean;
  traceId: string;
}

export interface Publisher {
  /** Resolves only after the event is acknowledged by Kafka (acks=all) and its COLLECT audit record is durable. */
  publish(cmd: PublishCommand): Promise<PublishReceipt>;
  /** One outcome per command, in order; refusals do not stop the rest of the batch. */
  publishBatch(cmds: PublishCommand[]): Promise<(PublishReceipt | GatewayError)[]>;
}

export interface PollRequest {
  party: string;
  topic: string;
  /** `Doelbinding` header: must be one of the purposes the party's consumer entry names. */
  purpose: string;
  maxEvents: number;
  /** Long-poll: wait up to this long for the first event. */
  waitMs: number;
  traceparent: string | undefined;
  /** Ends the wait early (the client went away). */
  signal?: AbortSignal;
}

export interface DeliveredEvent {
  eventId: string;
  topic: string;
  /** The party that published the event (the canonical record's producer header). */
  producer: string;
  /** Opaque position; commit it to acknowledge this event and everything before it. */
  cursor: string;
  grondslag: string;
  purpose: string;
  /** W3C `traceparent` of the DISCLOSE that delivered it, so a consumer continues the event's trace. */
  traceparent?: string;
  /** The event projected to the fields the party's contract allows, as JSON. */
  data: Record<string, unknown>;
}

export interface StreamRequest extends Omit<PollRequest, "waitMs" | "signal"> {
  /** `Last-Event-ID`: a cursor this stream API handed out; the stream starts after it. */
  after: string | undefined;
}

/**
 * One server-sent-events stream. Its position is its own: it starts at the committed cursor (or `after`) and
 * advances as it hands events out, so it never hands out an event twice; the committed cursor moves only on commit.
 */
export interface DeliveryStream {
  /** The events after the stream's position, waiting up to `waitMs` for one; none after the wait or a close. */
  next(waitMs: number): Promise<DeliveredEvent[]>;
  /** Releases what the stream holds and wakes a pending `next`. Idempotent. */
  close(): void;
}

/** A refusal the HTTP edge made on a caller's call, for the audit log (REJECT). */
export interface EdgeRefusal {
  party: string;
  /** Which side the call was on: a publish names the party as producer, a read or commit as recipient. */
  role: "producer" | "recipient";
  topic: string;
  grondslag: string | undefined;
  purpose: string | undefined;
  error: GatewayError;
  traceparent: string | undefined;
}

export interface Subscriptions {
  poll(req: PollRequest): Promise<{ events: DeliveredEvent[] }>;
  /** Opens a stream (refusals are audited and thrown before it opens). */
  stream(req: StreamRequest): Promise<DeliveryStream>;
  commit(party: string, topic: string, cursor: string): Promise<void>;
  /** Writes the REJECT record of an edge refusal; rejects with UNAVAILABLE when the audit log cannot be written. */
  refused(r: EdgeRefusal): Promise<void>;
}

/**
 * The kit's readiness: checks `kafka`, `registry` and `workers` (every Kafka worker runs and makes progress);
 * `reasons` says why one failed, for the /readyz body.
 */
export type { Readiness } from "@grondslag/kit";
