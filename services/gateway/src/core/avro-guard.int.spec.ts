import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { assertSafeAvro } from "./avro-guard";

// Why the guard exists, shown on the payloads its unit spec uses: stock avsc, given each of them, runs out of
// memory instead of refusing. Bounded: a child process with a 64 MB heap and a 30 s timeout, so the proof never
// lets avsc take gigabytes of this machine (measured: the child dies within 2 s, about 90 MB resident).
const avscPath = createRequire(import.meta.url).resolve("avsc");

const script = `
const avro = require(${JSON.stringify(avscPath)});
const [items, count] = [process.argv[1], Number(process.argv[2])];
const t = avro.Type.forSchema({ type: "record", name: "R", fields: [{ name: "xs", type: { type: "array", items } }] });
const buf = Buffer.concat([avro.Type.forSchema("long").toBuffer(count), Buffer.from([0, 0])]);
try { t.fromBuffer(buf); console.log("decoded"); } catch (e) { console.log("refused: " + e.message); }
`;

function stockAvsc(items: string, count: number) {
  return spawnSync(process.execPath, ["--max-old-space-size=64", "-e", script, items, String(count)], {
    encoding: "utf8",
    timeout: 30_000,
  });
}

const record = (items: string) =>
  avro.Type.forSchema({
    type: "record",
    name: "R",
    fields: [{ name: "xs", type: { type: "array", items } }],
  });
const hostile = (count: number) =>
  Buffer.concat([avro.Type.forSchema("long").toBuffer(count), Buffer.from([0, 0])]);

describe("stock avsc on the guard's hostile payloads (bounded child process)", () => {
  it.each([
    ["int", 1_000_000_000],
    ["null", 500_000_000],
  ])(
    "array<%s> claiming %d items: avsc neither decodes nor refuses it, it dies; the guard refuses",
    (items, n) => {
      const child = stockAvsc(items, n);
      expect(child.stdout).not.toMatch(/decoded|refused/);
      expect(child.status === 0 && child.signal === null).toBe(false);
      expect(() => assertSafeAvro(record(items), hostile(n))).toThrow("more than 10000 items at xs");
    },
  );
});
