import type { GatewayError } from "./errors";

/**
 * What the HTTP edge needs from the core (Kafka, registry, audit). The edge authenticates and parses; the core
 * decides and records. Both sides of every refusal are audited by the core, so the edge never audits itself.
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
}

export interface DeliveredEvent {
  eventId: string;
  topic: string;
  /** Opaque position; commit it to acknowledge this event and everything before it. */
  cursor: string;
  grondslag: string;
  purpose: string;
  /** The event projected to the fields the party's contract allows, as JSON. */
  data: Record<string, unknown>;
}

export interface Subscriptions {
  poll(req: PollRequest): Promise<{ events: DeliveredEvent[] }>;
  commit(party: string, topic: string, cursor: string): Promise<void>;
}

export interface Readiness {
  /** `workers`: every Kafka worker runs and makes progress; `reasons` says why a check failed, for the body. */
  check(): Promise<Record<"kafka" | "registry", boolean> & { workers?: boolean; reasons?: string[] }>;
}
