import { loadSchema, topics } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { AVRO_FIXTURE, generateAvroCases } from "../hostile/avro-attacks";
import { readFixture, type HttpCase, type IngressCase, type RawCase } from "../hostile/corpus";

const HTTP = ["jwt.json", "bodies.json", "identifiers.json", "topics.json", "headers.json", "contract.json"];

describe("the hostile input corpus (test/hostile)", () => {
  it("the committed Avro attacks are exactly what the generator makes from the schemas now", () => {
    // After a schema change: npx tsx test/hostile/avro-attacks.ts --write
    const committed = readFixture<IngressCase[]>(AVRO_FIXTURE);
    const generated = JSON.parse(JSON.stringify(generateAvroCases())) as IngressCase[];
    expect(committed.length).toBe(generated.length);
    expect(committed).toEqual(generated);
  });

  it("attacks every field a producer writes, in every schema", () => {
    const attacked = new Set(
      readFixture<IngressCase[]>(AVRO_FIXTURE).map((c) => c.id.split("/").slice(1, 3).join("/")),
    );
    for (const topic of topics) {
      const walk = (t: unknown, prefix: string): string[] => {
        const any = t as {
          typeName: string;
          fields?: { name: string; type: unknown }[];
          underlyingType?: unknown;
        };
        if (any.typeName === "record") {
          return (any.fields ?? []).flatMap((f) => walk(f.type, prefix ? `${prefix}.${f.name}` : f.name));
        }
        return [prefix];
      };
      for (const field of walk(loadSchema(topic), ""))
        expect(attacked, `${topic}/${field}`).toContain(`${topic}/${field}`);
    }
  });

  it("every case has a unique id and an outcome that names the rule", () => {
    const all = [
      ...HTTP.flatMap((f) => readFixture<HttpCase[]>(f)),
      ...readFixture<RawCase[]>("raw.json"),
      ...readFixture<IngressCase[]>("ingress.json"),
      ...readFixture<IngressCase[]>(AVRO_FIXTURE),
    ];
    const ids = all.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(all.length).toBeGreaterThanOrEqual(500);
    for (const c of all) {
      const e = c.expect;
      // A refusal names its rule: an HTTP status of 4xx with a code (the HTTP parser's own 400 and 431 have no
      // body to carry one), or a Kafka reason code; a control is accepted.
      const accepted = e.accepted === true || (e.status !== undefined && e.status < 300);
      const parserRefusal = "raw" in c && (e.status === 400 || e.status === 431);
      expect(accepted || e.code !== undefined || parserRefusal, c.id).toBe(true);
      if (e.status !== undefined) expect(e.status, c.id).toBeLessThan(500);
    }
  });
});
