import type { Catalogue } from "@grondslag/contracts";
import type { Topic, TopicMap } from "@grondslag/schemas";
import type { Delivery, JsonForm } from "@grondslag/sdk";
import type { Logger } from "pino";
import type { z } from "zod";
import type { Query } from "./store";

/** A delivery you cannot handle, and never will as it is: it is parked in `deadletter.<party>` with `reason`. */
export class Poison extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = "Poison";
  }
}

export interface PublishOpts {
  /** Default: the legal basis of your producer entry for the topic (the one in force, else the first). */
  grondslag?: string;
  /** Default: the first purpose of that entry. */
  purpose?: string;
  /** Kafka key (Kafka transport); default the event's `subjectKvk`. */
  key?: string;
}

/**
 * What a handler, desk action or timer gets: one PostgreSQL transaction (`query`), the outbox (`publish`), and who
 * the service is. Everything it does through `query` and `publish` commits together or not at all.
 */
export interface AgencyContext {
  readonly party: string;
  readonly service: string;
  /** The service's PostgreSQL schema: `${ctx.schema}.cases`. */
  readonly schema: string;
  readonly catalogue: Catalogue;
  readonly log: Logger;
  query: Query;
  /**
   * Queues `value` (the event's JSON form: ISO instants, `YYYY-MM-DD` dates) for publication on `topic` after this
   * transaction commits. Returns the outbox id, which is also the idempotency key the gateway sees.
   */
  publish<K extends Topic>(topic: K, value: JsonForm<TopicMap[K]>, opts?: PublishOpts): Promise<string>;
  now(): Date;
}

export type Handler<K extends Topic> = (ctx: AgencyContext, delivery: Delivery<TopicMap[K]>) => Promise<void>;

export type Subscriptions = { [K in Topic]?: Handler<K> };

export interface DeskAction<S extends z.ZodType = z.ZodType> {
  /** What it does, for `GET /desk` and the README. */
  summary: string;
  input: S;
  run: (ctx: AgencyContext, input: z.infer<S>) => Promise<unknown>;
}

/** Builds a desk action with its input type inferred from the schema. */
export const deskAction = <S extends z.ZodType>(a: DeskAction<S>): DeskAction<S> => a;

export interface Timer {
  name: string;
  everyMs: number;
  run: (ctx: AgencyContext) => Promise<void>;
}

export interface AgencySpec {
  /** The service's name: process, logs, metrics, default database schema (`-` becomes `_`). */
  service: string;
  /** The party it is; when absent, `AGENCY_PARTY` names it (one codebase, several parties). */
  party?: string;
  /** "kafka": ingress.<party> and deliver.<party>.<topic>; "http": the gateway's HTTP API. */
  transport: "kafka" | "http";
  /** The service's own state tables, in schema `s` (idempotent DDL, run at every start). */
  migrations?: (s: string) => string[];
  subscriptions: Subscriptions;
  desk?: Record<string, DeskAction>;
  timers?: Timer[];
  /** `GET /state`: the service's state as JSON (its own query, read-only). */
  state?: (ctx: AgencyContext) => Promise<unknown>;
}
