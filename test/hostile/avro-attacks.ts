/**
 * Generates the Avro attacks of the hostile corpus from the schemas themselves (`schemas/avro`): for every topic,
 * every field the producer writes gets the attacks its type admits (lengths, varints, enum and union indexes, block
 * counts, invalid UTF-8, truncation), plus the attacks on the whole record and its registry frame. Each attack
 * starts from the topic's valid example event, so the attacked field is the only thing wrong, and expects
 * MALFORMED_RECORD naming that field.
 *
 *   npx tsx test/hostile/avro-attacks.ts           # prints the case count
 *   npx tsx test/hostile/avro-attacks.ts --write   # rewrites avro.generated.json (after a schema change)
 *
 * `test/src/hostile-corpus.unit.spec.ts` fails while the committed file differs from what this makes.
 */
import fs from "node:fs";
import path from "node:path";
import avro from "avsc";
import prettier from "prettier";
import { loadCatalogue } from "@grondslag/contracts";
import { loadSchema, topics, type Topic } from "@grondslag/schemas";
import { eventWith, HOME, HOSTILE_DIR, type CorpusParty, type IngressCase } from "./corpus";

export const AVRO_FIXTURE = "avro.generated.json";

/**
 * Which corpus party writes each topic's attacks: one of its producers where a corpus party is one; otherwise a
 * party that is not (the frame and the Avro guard refuse before the contract is consulted, so the expected code is
 * the same; `contract.json` covers the contract's own refusals).
 */
export const ATTACKER: Record<Topic, CorpusParty> = {
  "amu.case-opened": "uwv",
  "arbo.accident-notified": "inlener.90000101",
  "arbo.accident-reported": "inlener.90000101",
  "arbo.return-verified": "inlener.90000101",
  "brp.stay-address-changed": "gemeente.schiedam",
  "brp.stay-address-provided": "bzk.rvig",
  "fiscaal.arrears-signalled": "belastingdienst",
  "huisvesting.landlord-reported": "gemeente.schiedam",
  "huisvesting.violation-found": "gemeente.schiedam",
  "informatie.worker-notice-issued": "gemeente.schiedam",
  "inspectie.report-filed": "inspectie.sna",
  "loonaangifte.payroll-departure": "uwv",
  "loonaangifte.registration-gap": "uwv",
  "lsi.signal-raised": "belastingdienst",
  "wtta.admission-granted": "bzk.rvig",
  "wtta.admission-refused": "bzk.rvig",
  "wtta.admission-revoked": "inspectie.sna",
  "wtta.register-updated": "inspectie.sna",
};

const LONG = avro.Type.forSchema("long");
const varint = (n: number): Buffer => LONG.toBuffer(n);
const hex = (...parts: (Buffer | number[])[]): string =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))).toString("hex");

interface Segment {
  path: string;
  /** The avsc type name beneath any logical type: `string`, `long`, `enum`, `union:unwrapped`, `array`, … */
  kind: string;
  /** The logical type, if any: `timestamp-millis`, `date`. */
  logical?: string;
  type: avro.Type;
  bytes: Buffer;
}

const typeName = (t: avro.Type): string => (t as unknown as { typeName: string }).typeName;
function underlying(t: avro.Type): avro.Type {
  return typeName(t).startsWith("logical:")
    ? (t as unknown as { underlyingType: avro.Type }).underlyingType
    : t;
}

/** The valid encoding of `value`, cut at every field a producer writes (records are the only composite cut). */
function segments(type: avro.Type, value: unknown, prefix = ""): Segment[] {
  const u = underlying(type);
  if (typeName(u) === "record") {
    return (u as unknown as { fields: { name: string; type: avro.Type }[] }).fields.flatMap((f) =>
      segments(f.type, (value as Record<string, unknown>)[f.name], prefix ? `${prefix}.${f.name}` : f.name),
    );
  }
  const logical = typeName(type).startsWith("logical:") ? typeName(type).slice("logical:".length) : undefined;
  return [
    {
      path: prefix,
      kind: typeName(u),
      ...(logical ? { logical } : {}),
      type: u,
      bytes: type.toBuffer(value),
    },
  ];
}

type Attack = { name: string; note: string; bytes: Buffer };

/** The attacks one field's type admits; each replaces the field's bytes, the rest of the record following. */
function attacksOn(seg: Segment, rest: Buffer): Attack[] {
  const a: Attack[] = [];
  const add = (name: string, note: string, ...parts: (Buffer | number[])[]) =>
    a.push({ name, note, bytes: Buffer.from(hex(...parts), "hex") });
  switch (seg.kind) {
    case "string":
    case "bytes":
      add("negative-length", "a length of -1", varint(-1), rest);
      add("length-past-end", "a length one byte longer than what is left", varint(rest.length + 1), rest);
      add("length-huge", "a length of 2^40 in a small record", varint(2 ** 40), rest);
      if (seg.kind === "string") {
        add("utf8-invalid", "0xC3 0x28: a lead byte without its continuation", varint(2), [0xc3, 0x28], rest);
        add("utf8-overlong", "0xC0 0xAF: an overlong encoding of '/'", varint(2), [0xc0, 0xaf], rest);
        add(
          "utf8-surrogate",
          "0xED 0xA0 0x80: a UTF-16 surrogate encoded as UTF-8",
          varint(3),
          [0xed, 0xa0, 0x80],
          rest,
        );
        add("utf8-lone-continuation", "0x80: a continuation byte alone", varint(1), [0x80], rest);
      }
      break;
    case "int":
    case "long":
      add(
        "varint-overlong",
        "an 11-byte varint",
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        rest,
      );
      if (seg.kind === "int")
        add("int-out-of-range", "2^33 where Avro ints are 32 bits", varint(2 ** 33), rest);
      else
        add(
          "long-past-2^53",
          "2^60: beyond what a JavaScript number holds exactly",
          [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
          rest,
        );
      if (seg.logical === "timestamp-millis")
        add(
          "timestamp-past-date-range",
          "8.64e15 + 1 ms: past the last instant a Date holds",
          varint(8.64e15 + 1),
          rest,
        );
      if (seg.logical === "date")
        add("date-past-date-range", "10^8 + 1 days: past the last day a Date holds", varint(1e8 + 1), rest);
      break;
    case "boolean":
      add("boolean-not-0-or-1", "the byte 2, where Avro booleans are 0 or 1", [0x02], rest);
      break;
    case "enum": {
      const n = (seg.type as unknown as { symbols: string[] }).symbols.length;
      add("enum-index-past-symbols", `index ${n} of ${n} symbols`, varint(n), rest);
      add("enum-index-negative", "index -1", varint(-1), rest);
      add("enum-index-huge", "index 2^40", varint(2 ** 40), rest);
      break;
    }
    case "array":
    case "map":
      add("block-count-huge", "a block of 2^40 items", varint(2 ** 40), rest);
      add(
        "block-count-over-limit",
        "a block of 10,001 items (the guard's limit is 10,000)",
        varint(10_001),
        rest,
      );
      add("block-count-past-end", "a block of more items than bytes left", varint(rest.length + 1), rest);
      add(
        "block-negative-size-huge",
        "a negative count with a block size of 2^40 bytes",
        varint(-1),
        varint(2 ** 40),
        rest,
      );
      add(
        "block-negative-size-negative",
        "a negative count with a negative block size",
        varint(-1),
        varint(-5),
        rest,
      );
      add(
        "block-negative-count-huge",
        "a count of -2^40 with a block size of 0",
        varint(-(2 ** 40)),
        varint(0),
        rest,
      );
      break;
    default:
      if (seg.kind.startsWith("union")) {
        const n = (seg.type as unknown as { types: unknown[] }).types.length;
        add("union-branch-past-types", `branch ${n} of ${n}`, varint(n), rest);
        add("union-branch-negative", "branch -1", varint(-1), rest);
        add("union-branch-huge", "branch 2^40", varint(2 ** 40), rest);
      }
  }
  return a;
}

/** Every generated ingress case, in a stable order: topic by topic, field by field, then the whole record. */
export function generateAvroCases(): IngressCase[] {
  const cases: IngressCase[] = [];
  for (const topic of topics) {
    const party = ATTACKER[topic];
    const headers = headersFor(topic);
    const base = eventWith(topic);
    const type = loadSchema(topic);
    const segs = segments(type, base);
    const valid = type.toBuffer(base);
    if (!Buffer.concat(segs.map((s) => s.bytes)).equals(valid)) {
      throw new Error(`${topic}: the field cuts do not add up to the encoding`);
    }
    let at = 0;
    const push = (
      c: Omit<IngressCase, "party" | "headers" | "category" | "framing"> & Partial<IngressCase>,
    ) => cases.push({ category: "avro", party, headers, framing: { kind: "registered" }, ...c });
    for (const seg of segs) {
      const before = valid.subarray(0, at);
      const rest = valid.subarray(at + seg.bytes.length);
      for (const attack of attacksOn(seg, rest)) {
        push({
          id: `avro/${topic}/${seg.path}/${attack.name}`,
          note: attack.note,
          bodyHex: hex(before, attack.bytes),
          expect: { code: "MALFORMED_RECORD", field: seg.path },
        });
      }
      push({
        id: `avro/${topic}/${seg.path}/truncated-before`,
        note: "the record ends where this field begins",
        bodyHex: hex(before),
        expect: { code: "MALFORMED_RECORD", field: seg.path },
      });
      // Cut inside the field where its last byte is still this field's own (not a nested record's).
      if (
        seg.bytes.length > 1 &&
        !(seg.kind.startsWith("union") && seg.bytes[0] !== 0 && isRecordBranch(seg))
      ) {
        push({
          id: `avro/${topic}/${seg.path}/truncated-inside`,
          note: "the record ends one byte before this field does",
          bodyHex: hex(before, seg.bytes.subarray(0, seg.bytes.length - 1)),
          expect: { code: "MALFORMED_RECORD", field: seg.path },
        });
      }
      at += seg.bytes.length;
    }
    const whole = (
      name: string,
      note: string,
      c: Partial<IngressCase> & Pick<IngressCase, "bodyHex" | "expect">,
    ) => push({ id: `avro/${topic}/(record)/${name}`, note, ...c });
    whole("trailing-byte", "one byte after a valid record", {
      bodyHex: hex(valid, [0x00]),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("trailing-kilobyte", "a kilobyte after a valid record", {
      bodyHex: hex(valid, Buffer.alloc(1024, 0x41)),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("empty-body", "the frame alone", {
      bodyHex: "",
      expect: { code: "MALFORMED_RECORD", field: segs[0]?.path ?? null },
    });
    whole("foreign-schema-id", "a valid record framed with another topic's registered schema id", {
      framing: {
        kind: "foreign",
        topic: topic === "lsi.signal-raised" ? "amu.case-opened" : "lsi.signal-raised",
      },
      bodyHex: hex(valid),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("unknown-schema-id", "a schema id the registry never gave out", {
      framing: { kind: "id", id: 2_147_483_647 },
      bodyHex: hex(valid),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("negative-schema-id", "schema id -1", {
      framing: { kind: "id", id: -1 },
      bodyHex: hex(valid),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("wrong-magic-byte", "magic byte 1 instead of 0", {
      framing: { kind: "magic", magic: 1 },
      bodyHex: hex(valid),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("unframed", "plain Avro without the registry frame", {
      framing: { kind: "raw" },
      bodyHex: hex(valid),
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("short-frame", "three bytes: shorter than the frame", {
      framing: { kind: "raw" },
      bodyHex: "000000",
      expect: { code: "MALFORMED_RECORD", field: null },
    });
    whole("tombstone", "no value at all (a Kafka tombstone)", {
      bodyHex: null,
      expect: { code: "MALFORMED_RECORD", field: null },
    });
  }
  return cases;
}

function isRecordBranch(seg: Segment): boolean {
  const types = (seg.type as unknown as { types: avro.Type[] }).types;
  const branch = types[seg.bytes[0] === undefined ? 0 : varintAt(seg.bytes)];
  return branch !== undefined && typeName(underlying(branch)) === "record";
}

function varintAt(buf: Buffer): number {
  return LONG.decode(buf, 0).value as number;
}

/** The headers a producer of `topic` sets: its home entry's, or its contract's first producer entry's. */
export function headersFor(topic: Topic): Record<string, string> {
  const home = Object.values(HOME).find((h) => h.topic === topic);
  const first = loadCatalogue().topics[topic]?.producers[0];
  const grondslag = home?.grondslag ?? first?.grondslag;
  const purpose = home?.purpose ?? first?.purposes[0];
  if (!grondslag || !purpose) throw new Error(`${topic}: no producer entry`);
  return { "grondslag-topic": topic, grondslag, doelbinding: purpose };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(HOSTILE_DIR, "avro-attacks.ts")) {
  const cases = generateAvroCases();
  if (process.argv.includes("--write")) {
    // Formatted as the repository's prettier formats it, so `npm run lint` passes on a fresh file.
    const file = path.join(HOSTILE_DIR, AVRO_FIXTURE);
    const options = (await prettier.resolveConfig(file)) ?? {};
    fs.writeFileSync(file, await prettier.format(JSON.stringify(cases), { ...options, parser: "json" }));
    process.stdout.write(`wrote ${cases.length} cases to ${AVRO_FIXTURE}\n`);
  } else {
    process.stdout.write(`${cases.length} cases (run with --write to rewrite ${AVRO_FIXTURE})\n`);
  }
}
