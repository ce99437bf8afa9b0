import crypto from "node:crypto";
import { checkProduce, type Catalogue } from "@grondslag/contracts";
import {
  describeFields,
  identifierProblems,
  isTopic,
  KEY_FIELD,
  loadSchema,
  rawSchema,
  type Topic,
} from "@grondslag/schemas";
import {
  MAX_RECORD_BYTES,
  recordBytes,
  subjectsOf,
  type DataSubject,
  type Pseudonymiser,
  type TopicMessage,
} from "@grondslag/kit";
import {
  BUS_HEADERS as H,
  canonicalTopic,
  formatTraceparent as traceparent,
  INTERNAL_PREFIXES,
  toWire,
  type ErrorCode,
  type TraceContext,
} from "@grondslag/wire";

/**
 * The publish decision, without I/O and without reading the clock: may this event be collected, and as what?
 * Two steps, because the registry's schema id (an I/O) is needed only for an event that passed the first and is no
 * duplicate: `decidePublish` (topic, contract policy and bindings, schema and identifiers) and `boundCanonical`
 * (the canonical Kafka record, and the size bound on it).
 */

/**
 * The largest canonical record accepted. Below the producer's own bound by room for a delivery record's headers:
 * a delivery's value is a projection of the canonical one, never larger, so every delivery of an accepted event
 * fits as well.
 */
export const MAX_CANONICAL_BYTES = MAX_RECORD_BYTES - 16 * 1024;

/** A refusal: the gateway's code, what is wrong, how to fix the call, and the payload path at fault if one is. */
export interface PublishRefusal {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly fix: string;
  readonly field?: string;
}

/** What a publish asks for; `at` is the instant the contract must be in force (the caller's clock, read once). */
export interface PublishRequest {
  readonly topic: string;
  readonly producer: string;
  readonly grondslag: string;
  readonly purpose: string;
  readonly payload: unknown;
  readonly at: Date;
}

export interface PublishAccepted {
  readonly ok: true;
  readonly topic: Topic;
  /** The event's Avro binary under the topic's schema (without the registry's wire header). */
  readonly body: Buffer;
  /** SHA-256 of `body`: what an idempotency key is bound to. */
  readonly sha256: Buffer;
  /** The canonical record's Kafka key: the company the event concerns, so its events stay in order. */
  readonly key: string;
  /** The schema's leaf field paths: what the COLLECT record lists. */
  readonly fields: string[];
  /** The pseudonymised data subjects the COLLECT record names. */
  readonly subjects: DataSubject[];
}

export type PublishDecision = PublishAccepted | PublishRefusal;

/** Internal Kafka topics are never a publish target, whatever the caller puts in the path. */

const refusalCodes = {
  UNKNOWN_TOPIC: "UNKNOWN_TOPIC",
  UNKNOWN_PARTY: "NOT_A_PRODUCER",
  NOT_A_PRODUCER: "NOT_A_PRODUCER",
  GRONDSLAG_MISMATCH: "LEGAL_BASIS_NOT_ALLOWED",
  PURPOSE_NOT_ALLOWED: "PURPOSE_NOT_ALLOWED",
  LEGAL_BASIS_NOT_IN_FORCE: "LEGAL_BASIS_NOT_IN_FORCE",
  BINDING_VIOLATED: "BINDING_VIOLATED",
} as const;

const fixes: Record<keyof typeof refusalCodes, string> = {
  UNKNOWN_TOPIC: "publish to one of the topics in GET /v1/openapi.json (e.g. arbo.accident-reported)",
  UNKNOWN_PARTY: "authenticate as a party in the parties registry",
  NOT_A_PRODUCER: "only parties the topic's contract names as producers may publish; ask the contract owner",
  GRONDSLAG_MISMATCH:
    "name the legal basis your producer entry in the contract gives, in the Grondslag header",
  PURPOSE_NOT_ALLOWED: "name one of the purposes your producer entry allows, in the Doelbinding header",
  LEGAL_BASIS_NOT_IN_FORCE:
    "rule: a legal basis carries only events inside its validity (legal-bases.yaml status, validFrom, validTo); publish events dated on or after the date it takes effect, or wait until a planned basis is given a date and takes effect",
  BINDING_VIOLATED:
    "publish only about yourself: the contract binds this field to your own KvK or gemeentecode (parties registry)",
};

const refuse = (code: ErrorCode, detail: string, fix: string, field?: string): PublishRefusal =>
  field === undefined ? { ok: false, code, detail, fix } : { ok: false, code, detail, fix, field };

/**
 * The leaf field paths of a topic's schema: what a COLLECT record lists. Schema fields, like a DISCLOSE record's,
 * so an auditor compares like with like (a recipient's fields are always a subset); computed once per topic.
 */
const collectedFields = new Map<Topic, string[]>();
export function fieldsOf(topic: Topic): string[] {
  let fields = collectedFields.get(topic);
  if (!fields) {
    fields = describeFields(rawSchema(topic))
      .filter((f) => !f.isRecord)
      .map((f) => f.path);
    collectedFields.set(topic, fields);
  }
  return fields;
}

/**
 * The first schema violation `isValid` reports, for the refusal to name. A hook at module level, not a closure made
 * per event (the runner, tsx, wraps each named closure in a `__name` call when it is made); `isValid` is
 * synchronous, so one publish's check never sees another's.
 */
const firstError: { path: string | undefined; problem: string } = { path: undefined, problem: "" };
const FIRST_ERROR = {
  errorHook(path: string[], value: unknown, t: { typeName?: string; toString(): string }): void {
    if (firstError.path !== undefined) return;
    firstError.path = path.join(".");
    firstError.problem =
      value === undefined
        ? "is missing"
        : `does not match the schema (expected ${t.typeName ?? "another type"})`;
  },
};

/**
 * Every check of a publish that needs no I/O, in order: a public topic; the contract (`checkProduce`: a party,
 * a producer entry in force at `request.at`, its legal basis, its purposes, its bindings); the topic's Avro schema;
 * the identifiers (BSN elfproef, KvK, gemeentecode). The first rule broken refuses the event. The pseudonymiser
 * only computes keyed hashes (no I/O) for the subjects the audit record names.
 */
export function decidePublish(
  catalogue: Catalogue,
  request: PublishRequest,
  pseudonymiser: Pseudonymiser,
): PublishDecision {
  if (INTERNAL_PREFIXES.some((p) => request.topic.startsWith(p)) || !isTopic(request.topic)) {
    return refuse(
      "UNKNOWN_TOPIC",
      `there is no public topic ${JSON.stringify(request.topic)}`,
      fixes.UNKNOWN_TOPIC,
    );
  }
  const topic = request.topic;
  const { producer: party, grondslag, purpose, payload, at } = request;
  const decision = checkProduce(catalogue, { topic, party, grondslag, purpose, payload, at });
  // The binding's field is named in the detail already; the refusal carries no separate field for it.
  if (!decision.ok) return refuse(refusalCodes[decision.code], decision.detail, fixes[decision.code]);
  const type = loadSchema(topic);
  firstError.path = undefined;
  firstError.problem = "";
  const valid = type.isValid(request.payload, FIRST_ERROR);
  if (!valid) {
    const field = firstError.path || "(root)";
    return refuse(
      "SCHEMA_VIOLATION",
      `${field} ${firstError.problem}`,
      `fix ${field} as the schema for ${topic} describes (GET /v1/openapi.json)`,
      field,
    );
  }
  const idProblem = identifierProblems(rawSchema(topic), request.payload)[0];
  if (idProblem) {
    return refuse(
      "INVALID_IDENTIFIER",
      `${idProblem.path} is not a valid ${idProblem.identifier}`,
      idProblem.identifier === "bsn"
        ? "send a BSN of nine digits that passes the elfproef"
        : idProblem.identifier === "kvk"
          ? "send a KvK number of eight digits"
          : "send a CBS municipality code: GM followed by four digits",
      idProblem.path,
    );
  }
  const body = type.toBuffer(request.payload);
  return {
    ok: true,
    topic,
    body,
    sha256: crypto.createHash("sha256").update(body).digest(),
    key: String((request.payload as Record<string, unknown>)[KEY_FIELD]),
    fields: fieldsOf(topic),
    subjects: subjectsOf(topic, request.payload, pseudonymiser),
  };
}

/** The refusal of an event whose Kafka record would take `bytes`, more than the bus accepts. */
export function tooLarge(bytes: number): PublishRefusal {
  return refuse(
    "RECORD_TOO_LARGE",
    `the event takes ${bytes} bytes as a Kafka record, more than the ${MAX_CANONICAL_BYTES} the bus accepts`,
    "send a smaller event: shorten its longest text fields",
  );
}

/**
 * The canonical record of an accepted event (`events.<topic>`, keyed by the company, the facts in headers), or
 * RECORD_TOO_LARGE when it would exceed `MAX_CANONICAL_BYTES` (so every projection of it fits a delivery record).
 */
export function boundCanonical(
  accepted: PublishAccepted,
  request: Pick<PublishRequest, "producer" | "grondslag" | "purpose">,
  ids: { eventId: string; trace: TraceContext; schemaId: number },
): { ok: true; message: TopicMessage } | PublishRefusal {
  const canonical: TopicMessage = {
    topic: canonicalTopic(accepted.topic),
    message: {
      key: accepted.key,
      value: toWire(ids.schemaId, accepted.body),
      headers: {
        [H.eventId]: ids.eventId,
        [H.topic]: accepted.topic,
        [H.producer]: request.producer,
        [H.grondslag]: request.grondslag,
        [H.purpose]: request.purpose,
        [H.traceparent]: traceparent(ids.trace),
        [H.schemaId]: String(ids.schemaId),
      },
    },
  };
  const bytes = recordBytes(canonical.message);
  return bytes > MAX_CANONICAL_BYTES ? tooLarge(bytes) : { ok: true, message: canonical };
}
