import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  buildCatalogue,
  loadCatalogue,
  lintSource,
  overlaySources,
  parseSource,
  readCatalogueSource,
} from "../load";
import { formatProblem } from "../problems";
import { aclKey, AUDIT_SERVICE, defaultPlanOptions, desiredState, GATEWAY } from "./plan";

const fixtures = fileURLToPath(new URL("../../test-fixtures/", import.meta.url));
const base = readCatalogueSource(`${fixtures}_base`);

/** The base catalogue with uwv's consumer entry and the uitleners' producer entry ending on 1 March 2026. */
function withExpiringEntries() {
  const topic = (base.files.get("topics/arbo.accident-reported.yaml")?.text ?? "")
    .replace(
      "    purposes: [ongevalsmelding]\n",
      "    purposes: [ongevalsmelding]\n    validTo: 2026-03-01\n",
    )
    .replace(
      "    fields: [eventTime, subjectKvk, victim.bsn]\n",
      "    fields: [eventTime, subjectKvk, victim.bsn]\n    validTo: 2026-03-01\n",
    );
  const source = overlaySources(base, {
    files: new Map([["topics/arbo.accident-reported.yaml", { text: topic, shown: "t.yaml" }]]),
  });
  expect(lintSource(source).problems.map(formatProblem)).toEqual([]);
  return buildCatalogue(parseSource(source).draft);
}

describe("the derived plan uses the date", () => {
  const catalogue = withExpiringEntries();
  const before = desiredState(catalogue, undefined, new Date("2026-02-28T12:00:00Z"));
  const after = desiredState(catalogue, undefined, new Date("2026-03-01T12:00:00Z"));
  const keys = (d: typeof before) => d.acls.map(aclKey);

  it("grants an entry's ACLs while it is in force", () => {
    expect(keys(before)).toEqual(
      expect.arrayContaining([
        "User:uwv READ TOPIC:LITERAL:deliver.uwv.arbo.accident-reported",
        "User:uitlener.90000001 WRITE TOPIC:LITERAL:ingress.uitlener.90000001",
      ]),
    );
  });

  it("revokes the ACLs of expired consumer and producer entries, and only those", () => {
    expect(keys(after)).not.toContain("User:uwv READ TOPIC:LITERAL:deliver.uwv.arbo.accident-reported");
    expect(keys(after)).not.toContain("User:uitlener.90000001 WRITE TOPIC:LITERAL:ingress.uitlener.90000001");
    const revoked = keys(before).filter((k) => !keys(after).includes(k));
    expect(revoked.sort()).toEqual([
      "User:uitlener.90000001 WRITE TOPIC:LITERAL:ingress.uitlener.90000001",
      "User:uwv READ TOPIC:LITERAL:deliver.uwv.arbo.accident-reported",
    ]);
    expect(keys(after).filter((k) => !keys(before).includes(k))).toEqual([]);
  });

  it("keeps topics, users and subjects: deleting a topic loses data, and a user keeps its password", () => {
    expect(after.topics.map((t) => t.name)).toEqual(before.topics.map((t) => t.name));
    expect(after.users).toEqual(before.users);
    expect(after.subjects.map((s) => s.subject)).toEqual(before.subjects.map((s) => s.subject));
  });

  it("grants nothing under a legal basis that is not in force", () => {
    const lapsedBasis = desiredState(
      buildCatalogue(
        parseSource(
          overlaySources(base, {
            files: new Map([
              [
                "legal-bases.yaml",
                {
                  shown: "l.yaml",
                  text: (base.files.get("legal-bases.yaml")?.text ?? "").replace(
                    /(- id: suwi-art64\n)/,
                    "$1  validFrom: 2027-01-01\n",
                  ),
                },
              ],
            ]),
          }),
        ).draft,
      ),
      undefined,
      new Date("2026-06-01T12:00:00Z"),
    );
    // uwv's entry rests on suwi-art64: a legal basis that is not in force yet carries no ACL.
    expect(keys(lapsedBasis)).not.toContain("User:uwv READ TOPIC:LITERAL:deliver.uwv.arbo.accident-reported");
  });
});

const catalogue = loadCatalogue();
const MiB = 1024 * 1024;

describe("the plan's quotas and ingress retention.bytes", () => {
  it("gives every party the default quota, services none, and an override replaces the default", () => {
    const desired = desiredState(catalogue, {
      ...defaultPlanOptions,
      quotaOverrides: { uwv: { producerByteRate: 2 * MiB } },
    });
    const of = (user: string) =>
      Object.fromEntries(desired.quotas.filter((q) => q.user === user).map((q) => [q.key, q.value]));
    const parties = desired.users.filter((u) => u !== GATEWAY && u !== AUDIT_SERVICE);
    expect(parties.length).toBeGreaterThan(5);
    for (const p of parties.filter((u) => u !== "uwv")) {
      expect(of(p)).toEqual({ producer_byte_rate: MiB, consumer_byte_rate: 4 * MiB });
    }
    expect(of("uwv")).toEqual({ producer_byte_rate: 2 * MiB });
    expect(of(GATEWAY)).toEqual({});
    expect(of(AUDIT_SERVICE)).toEqual({});
  });

  it("bounds ingress topics by size, and only them", () => {
    const desired = desiredState(catalogue, { ...defaultPlanOptions, ingressRetentionBytes: 12345 });
    const bounded = desired.topics.filter((t) => t.config["retention.bytes"] !== undefined);
    expect(bounded.length).toBeGreaterThan(0);
    expect(bounded.every((t) => t.name.startsWith("ingress."))).toBe(true);
    expect(
      desired.topics.filter((t) => t.name.startsWith("ingress.")).map((t) => t.config["retention.bytes"]),
    ).toEqual(bounded.map(() => "12345"));
  });
});
