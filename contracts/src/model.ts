import { isValidGemeentecode, isValidKvk, type Topic } from "@grondslag/schemas";
import { z } from "zod";

// The shapes of the YAML files (contracts/README.md), as zod schemas. Strict objects throughout: a misspelt key
// (`consumer:`, `rowfilter:`) must be an error, not a silently ignored line in a legal document.

const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
const PATTERN = /^(?:\*|[a-z0-9]+(?:-[a-z0-9]+)*)(?:\.(?:\*|[a-z0-9]+(?:-[a-z0-9]+)*))*$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const DURATION =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

const id = z
  .string()
  .regex(ID, "must be lower-case words joined by '-' and '.', e.g. gemeente.horst-aan-de-maas");
const instant = z
  .string()
  .refine(
    (s) => (DATE.test(s) || DATE_TIME.test(s)) && !Number.isNaN(parseInstant(s)),
    "must be a date (2026-01-01, start of that day in Europe/Amsterdam) or a date-time with offset",
  );

export const avgGrounds = ["6(1)(a)", "6(1)(b)", "6(1)(c)", "6(1)(d)", "6(1)(e)", "6(1)(f)"] as const;
export const specialCategoryExceptions = [
  "9(2)(a)",
  "9(2)(b)",
  "9(2)(c)",
  "9(2)(d)",
  "9(2)(e)",
  "9(2)(f)",
  "9(2)(g)",
  "9(2)(h)",
  "9(2)(i)",
  "9(2)(j)",
] as const;

export const legalBasisStatuses = ["in-force", "planned"] as const;

export const legalBasisSchema = z
  .strictObject({
    id,
    title: z.string().min(1),
    citation: z.strictObject({
      /** The law by name, as far as it can be cited; never a guessed article. */
      law: z.string().min(1),
      article: z.string().min(1).optional(),
    }),
    /** AVG art. 6(1) ground. */
    avgGround: z.enum(avgGrounds),
    /** Whether special categories of personal data (AVG art. 9) may flow under this basis. */
    allowsSpecialCategory: z.boolean(),
    /** The AVG art. 9(2) exception that lifts the prohibition; required exactly when special categories are allowed. */
    specialCategoryException: z.enum(specialCategoryExceptions).optional(),
    /**
     * `in-force`: law now (the default). `planned`: a bill or a measure being explored, not yet law; `validFrom` is
     * then the intended entry into force as the source gives it, and a planned basis without one is in force on no
     * date at all (`basisInForce`).
     */
    status: z.enum(legalBasisStatuses).optional(),
    validFrom: instant.optional(),
    validTo: instant.optional(),
    note: z.string().optional(),
  })
  .superRefine((b, ctx) => {
    if (b.allowsSpecialCategory && !b.specialCategoryException) {
      ctx.addIssue({
        code: "custom",
        path: ["specialCategoryException"],
        message: "allowsSpecialCategory needs the AVG art. 9(2) exception that permits it",
      });
    }
    if (!b.allowsSpecialCategory && b.specialCategoryException) {
      ctx.addIssue({
        code: "custom",
        path: ["specialCategoryException"],
        message: "only a basis that allowsSpecialCategory names an art. 9(2) exception",
      });
    }
  });

export const purposeSchema = z.strictObject({
  id,
  /** The processing activity, as in the AVG art. 30 register. */
  description: z.string().min(1),
  legalBases: z.array(id).min(1),
});

export const partyKinds = [
  "toezichthouder",
  "uitvoeringsorganisatie",
  "bestuursorgaan",
  "gemeente",
  "inspectie-instelling",
  "uitlener",
  "inlener",
  "auditor",
] as const;

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/** Accepted signing algorithms, with the key type and curve each needs (jose binds a key to one algorithm). */
export const keyAlgorithms = {
  EdDSA: { kty: "OKP", crv: "Ed25519", coordinates: ["x"] },
  ES256: { kty: "EC", crv: "P-256", coordinates: ["x", "y"] },
} as const;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const jwkShape = z
  .looseObject({
    kty: z.enum(["EC", "OKP", "RSA"]),
    kid: z.string().min(1, "must name the key").max(200),
    alg: z.enum(["EdDSA", "ES256"], "must be EdDSA (Ed25519) or ES256 (P-256)"),
    crv: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    use: z.literal("sig", "a signing key has use sig (or none)").optional(),
    validFrom: instant.optional(),
    validTo: instant.optional(),
  })
  .superRefine((key, ctx) => {
    const want = keyAlgorithms[key.alg];
    if (key.kty !== want.kty) {
      ctx.addIssue({ code: "custom", path: ["kty"], message: `an ${key.alg} key has kty ${want.kty}` });
      return;
    }
    if (key.crv !== want.crv) {
      ctx.addIssue({ code: "custom", path: ["crv"], message: `an ${key.alg} key has crv ${want.crv}` });
    }
    for (const c of want.coordinates) {
      const v = key[c];
      // Ed25519 and P-256 coordinates are 32 bytes: 43 base64url characters without padding.
      if (typeof v !== "string" || !BASE64URL.test(v) || Buffer.from(v, "base64url").length !== 32) {
        ctx.addIssue({ code: "custom", path: [c], message: "must be 32 bytes in base64url" });
      }
    }
    for (const m of Object.keys(key)) {
      if (!JWK_MEMBERS.has(m)) {
        ctx.addIssue({ code: "custom", path: [m], message: `unknown JWK member ${m}` });
      }
    }
  });

/**
 * A party's public signing key, as registered in parties.yaml: a JWK with its `kid` and `alg`, optionally valid
 * only from `validFrom` (inclusive) to `validTo` (exclusive), so a key can be rolled over or revoked in the
 * contracts. Private members are refused first, and alone: a private key in the repository is compromised, and
 * that is the one thing to say about it.
 */
const jwk = z
  .looseObject({})
  .superRefine((key, ctx) => {
    for (const m of PRIVATE_JWK_MEMBERS) {
      if (m in key) {
        ctx.addIssue({ code: "custom", path: [m], message: "private key material must never be committed" });
      }
    }
  })
  .pipe(jwkShape);

const JWK_MEMBERS = new Set(["kty", "kid", "alg", "crv", "x", "y", "use", "validFrom", "validTo"]);

export const partySchema = z
  .strictObject({
    id,
    name: z.string().min(1),
    kind: z.enum(partyKinds),
    /** Organisatie-identificatienummer (20 digits), where known. */
    oin: z
      .string()
      .regex(/^\d{20}$/, "an OIN has 20 digits")
      .optional(),
    gemeentecode: z.string().refine(isValidGemeentecode, "must be GM and four digits").optional(),
    kvk: z.string().refine(isValidKvk, "must be eight digits").optional(),
    /** Public keys (JWK) the party signs its tokens with. Dev keys are generated locally, never committed. */
    keys: z.array(jwk),
  })
  .superRefine((p, ctx) => {
    const kids = new Set<string>();
    p.keys.forEach((k, i) => {
      if (kids.has(k.kid)) {
        ctx.addIssue({ code: "custom", path: ["keys", i, "kid"], message: `kid ${k.kid} is used twice` });
      }
      kids.add(k.kid);
    });
    const prefix = p.id.split(".")[0];
    const expectKind: Record<string, (typeof partyKinds)[number]> = {
      gemeente: "gemeente",
      inspectie: "inspectie-instelling",
      uitlener: "uitlener",
      inlener: "inlener",
      auditor: "auditor",
    };
    const kind = prefix === undefined ? undefined : expectKind[prefix];
    if (kind && p.kind !== kind) {
      ctx.addIssue({ code: "custom", path: ["kind"], message: `a ${prefix}.* party is of kind ${kind}` });
    }
    if (p.kind === "gemeente" && !p.gemeentecode) {
      ctx.addIssue({
        code: "custom",
        path: ["gemeentecode"],
        message: "a gemeente carries its gemeentecode",
      });
    }
    if (p.kind !== "gemeente" && p.gemeentecode) {
      ctx.addIssue({
        code: "custom",
        path: ["gemeentecode"],
        message: "only a gemeente carries a gemeentecode",
      });
    }
    for (const k of ["uitlener", "inlener"] as const) {
      if (p.kind === k && p.kvk !== p.id.slice(`${k}.`.length)) {
        ctx.addIssue({
          code: "custom",
          path: ["kvk"],
          message: `an ${k}'s id is ${k}.<kvk>: kvk must match`,
        });
      }
    }
  });

/** Attributes of a party a row filter may compare with. */
export const partyAttributes = ["id", "kind", "gemeentecode", "kvk", "oin"] as const;

const literal = z.union([z.string(), z.number(), z.boolean()]);
const fieldPath = z.string().regex(FIELD_PATH, "must be a dotted field path, e.g. victim.bsn");

export const conditionSchema = z.union([
  z.strictObject({
    field: fieldPath,
    equals: z.union([literal, z.strictObject({ party: z.enum(partyAttributes) })]),
  }),
  z.strictObject({ field: fieldPath, in: z.array(literal).min(1) }),
]);

export const rowFilterSchema = z.union([
  conditionSchema,
  z.strictObject({ all: z.array(conditionSchema).min(1) }),
  z.strictObject({ any: z.array(conditionSchema).min(1) }),
]);

const pattern = z
  .string()
  .regex(PATTERN, "must be a party id or a pattern with * for one segment, e.g. uitlener.*");

const partyRef = z
  .string()
  .regex(
    new RegExp(`^party\\.(?:${partyAttributes.join("|")})$`),
    `must be party.<attribute>, one of ${partyAttributes.map((a) => `party.${a}`).join(", ")}`,
  )
  .transform((s) => s.slice("party.".length) as PartyAttribute);

export const producerSchema = z.strictObject({
  party: pattern,
  grondslag: id,
  purposes: z.array(id).min(1),
  /**
   * Fields whose value must be an attribute of the producing party itself (`subjectKvk: party.kvk`): a party
   * publishes about itself only. Checked on every publish, before anything is collected.
   */
  bind: z.record(fieldPath, partyRef).optional(),
  validFrom: instant.optional(),
  validTo: instant.optional(),
});

export const consumerSchema = z.strictObject({
  party: pattern,
  grondslag: id,
  purposes: z.array(id).min(1),
  /** Allowed fields as dotted paths; naming a record keeps it whole. No wildcard: what is not named is not sent. */
  fields: z.array(fieldPath).min(1),
  rowFilter: rowFilterSchema.optional(),
  validFrom: instant.optional(),
  validTo: instant.optional(),
});

export const topicContractSchema = z.strictObject({
  /** The topic's .avsc: its topic name, or its file name. */
  schema: z.string().min(1),
  description: z.string().optional(),
  owner: id,
  /** How long the canonical topic keeps events: an ISO-8601 duration (P1Y, P30D) or milliseconds. */
  retention: z
    .union([z.string(), z.number()])
    .refine(
      (v) => (typeof v === "number" ? Number.isSafeInteger(v) && v > 0 : DURATION.test(v)),
      "must be an ISO-8601 duration such as P1Y or P30D, or a positive number of milliseconds",
    ),
  producers: z.array(producerSchema).min(1),
  consumers: z.array(consumerSchema),
});

/** Deep-frozen at runtime, so read-only all the way down in the types too. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type LegalBasis = DeepReadonly<z.infer<typeof legalBasisSchema>>;
export type Purpose = DeepReadonly<z.infer<typeof purposeSchema>>;
export type Party = DeepReadonly<z.infer<typeof partySchema>>;
export type PartyKind = (typeof partyKinds)[number];
export type PartyAttribute = (typeof partyAttributes)[number];
export type PartyKey = Party["keys"][number];
export type Literal = string | number | boolean;
export type Condition = DeepReadonly<z.infer<typeof conditionSchema>>;
export type RowFilter = DeepReadonly<z.infer<typeof rowFilterSchema>>;
export type ProducerEntry = DeepReadonly<z.infer<typeof producerSchema>>;
export type ConsumerEntry = DeepReadonly<z.infer<typeof consumerSchema>>;

export interface TopicContract extends DeepReadonly<Omit<z.infer<typeof topicContractSchema>, "schema">> {
  /** The topic, from the file name `topics/<topic>.yaml`. */
  readonly topic: Topic;
  /** The schema's topic name (always equal to `topic`: one topic, one schema, one contract). */
  readonly schema: Topic;
}

/** Everything in `contracts/data/`, validated and deep-frozen. Lookups are null-prototype records. */
export interface Catalogue {
  readonly legalBases: Readonly<Record<string, LegalBasis>>;
  readonly purposes: Readonly<Record<string, Purpose>>;
  readonly parties: Readonly<Record<string, Party>>;
  readonly topics: Readonly<Partial<Record<Topic, TopicContract>>>;
}

/** A validity window; `validFrom` inclusive, `validTo` exclusive. */
export interface Window {
  readonly validFrom?: string | undefined;
  readonly validTo?: string | undefined;
}

/**
 * An instant in ms. A bare date means the start of that day in Europe/Amsterdam, because Dutch laws and decisions
 * take effect at local midnight.
 */
export function parseInstant(s: string): number {
  // Every decision asks for the same few contract dates; the Intl formatting below cost ≈4 % of the gateway's
  // CPU per event (bench profile), so each string is worked out once.
  let ms = instants.get(s);
  if (ms === undefined) {
    ms = computeInstant(s);
    if (instants.size < 10_000) instants.set(s, ms);
  }
  return ms;
}

const instants = new Map<string, number>();

function computeInstant(s: string): number {
  if (!DATE.test(s)) return Date.parse(s);
  const [y, m, d] = s.split("-").map(Number) as [number, number, number];
  const utcMidnight = Date.UTC(y, m - 1, d);
  if (new Date(utcMidnight).toISOString().slice(0, 10) !== s) return NaN;
  // Amsterdam is UTC+1 or UTC+2; local midnight is the candidate whose local date-time reads 00:00 on that day.
  for (const offsetHours of [1, 2]) {
    const candidate = utcMidnight - offsetHours * 3_600_000;
    if (amsterdamLocal(candidate) === `${s} 00:00`) return candidate;
  }
  return utcMidnight - 3_600_000;
}

const amsterdam = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Amsterdam",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function amsterdamLocal(ms: number): string {
  const parts = Object.fromEntries(amsterdam.formatToParts(ms).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/**
 * Is a legal basis in force at `at`? Inside its window; a planned basis from its intended date on, and never when
 * the source gives no date (being explored is not law).
 */
export function basisInForce(basis: LegalBasis, at: Date): boolean {
  if (basis.status === "planned" && basis.validFrom === undefined) return false;
  return isWithin(basis, at);
}

/** Human words for a basis's status and window, for refusals and lint messages. */
export function describeBasisValidity(basis: LegalBasis): string {
  const status = basis.status ?? "in-force";
  if (status === "planned" && basis.validFrom === undefined) {
    return "planned, with no date of entry into force";
  }
  const from = basis.validFrom === undefined ? "" : ` from ${basis.validFrom}`;
  const to = basis.validTo === undefined ? "" : ` until ${basis.validTo}`;
  return `${status === "planned" ? "planned, intended to take effect" : "in force"}${from}${to}`;
}

/** Is `at` inside the window? */
export function isWithin(window: Window, at: Date): boolean {
  const t = at.getTime();
  // An unknown instant is inside no window: fail closed (comparisons with NaN are all false).
  if (Number.isNaN(t)) return false;
  if (window.validFrom !== undefined && t < parseInstant(window.validFrom)) return false;
  if (window.validTo !== undefined && t >= parseInstant(window.validTo)) return false;
  return true;
}

const UNIT_MS = { Y: 365 * 86_400_000, M: 30 * 86_400_000, W: 7 * 86_400_000, D: 86_400_000 };

/**
 * Retention in milliseconds, for Kafka's `retention.ms`. Kafka has no calendar, so a year counts 365 days and a
 * month 30.
 */
export function retentionMs(retention: string | number): number {
  if (typeof retention === "number") return retention;
  const m = DURATION.exec(retention);
  if (!m) throw new Error(`not an ISO-8601 duration: ${retention}`);
  const n = (i: number): number => Number(m[i] ?? 0);
  return (
    n(1) * UNIT_MS.Y +
    n(2) * UNIT_MS.M +
    n(3) * UNIT_MS.W +
    n(4) * UNIT_MS.D +
    n(5) * 3_600_000 +
    n(6) * 60_000 +
    n(7) * 1000
  );
}
