import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  buildCatalogue,
  lintSource,
  loadCatalogue,
  overlaySources,
  parseSource,
  readCatalogueSource,
} from "./load";
import { consumersOf } from "./match";
import { isWithin } from "./model";
import { formatProblem } from "./problems";

const fixtures = fileURLToPath(new URL("../test-fixtures/", import.meta.url));
const base = readCatalogueSource(`${fixtures}_base`);
const ids = (d: { party: { id: string } }[]) => d.map((x) => x.party.id);

/** The base catalogue, with uwv receiving accident reports only during March 2026. */
function uwvInMarch() {
  const topic = (base.files.get("topics/arbo.accident-reported.yaml")?.text ?? "").replace(
    "    fields: [eventTime, subjectKvk, victim.bsn]\n",
    "    fields: [eventTime, subjectKvk, victim.bsn]\n    validFrom: 2026-03-01\n    validTo: 2026-04-01\n",
  );
  const source = overlaySources(base, {
    files: new Map([["topics/arbo.accident-reported.yaml", { text: topic, shown: "t.yaml" }]]),
  });
  expect(lintSource(source).problems.map(formatProblem)).toEqual([]);
  return buildCatalogue(parseSource(source).draft);
}

describe("delivery inside the consumer entry's window, at collection and at delivery", () => {
  const catalogue = uwvInMarch();
  const feb = new Date("2026-02-20T12:00:00Z");
  const mar = new Date("2026-03-15T12:00:00Z");
  const apr = new Date("2026-04-10T12:00:00Z");

  it("delivers what was collected and is delivered inside the window", () => {
    expect(ids(consumersOf(catalogue, "arbo.accident-reported", mar, mar))).toEqual(["nla", "uwv"]);
  });

  it("does not deliver what was collected before the entry started (a backlog or a replay)", () => {
    expect(ids(consumersOf(catalogue, "arbo.accident-reported", mar, feb))).toEqual(["nla"]);
  });

  it("does not deliver after the entry expired, even what was collected inside it", () => {
    expect(ids(consumersOf(catalogue, "arbo.accident-reported", apr, mar))).toEqual(["nla"]);
  });

  it("delivers nothing when the collection time is unknown", () => {
    expect(ids(consumersOf(catalogue, "arbo.accident-reported", mar, new Date(Number.NaN)))).toEqual([]);
    expect(isWithin({}, new Date(Number.NaN))).toBe(false);
  });

  it("keep the SVB from LSI signals collected before it joined in 2023 (the real contracts)", () => {
    const real = loadCatalogue();
    const now = new Date("2026-06-01T12:00:00Z");
    expect(ids(consumersOf(real, "lsi.signal-raised", now, new Date("2023-01-01T12:00:00Z")))).toContain(
      "svb",
    );
    expect(ids(consumersOf(real, "lsi.signal-raised", now, new Date("2022-12-31T12:00:00Z")))).not.toContain(
      "svb",
    );
  });
});
