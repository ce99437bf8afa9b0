import { loadCatalogue } from "@grondslag/contracts";
import { AUDIT_SERVICE, desiredState, GATEWAY } from "@grondslag/contracts/plan";
import {
  probeAccess,
  testCredentialsFile,
  testStack,
  uniqueName,
  type Probe,
  type ProbeOp,
} from "@grondslag/infra/test";
import {
  AUDIT_TOPIC,
  CANONICAL_PREFIX,
  deadLetterTopic,
  DELIVERY_PREFIX,
  ingressTopic,
  rejectedTopic,
} from "@grondslag/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { readCredential } from "@grondslag/provision";

const stack = testStack();
const catalogue = loadCatalogue();
const desired = desiredState(catalogue);
const topics = desired.topics.map((t) => t.name);
const canonical = topics.filter((t) => t.startsWith(CANONICAL_PREFIX));
const deliveriesOf = (party: string) => topics.filter((t) => t.startsWith(`${DELIVERY_PREFIX}${party}.`));
/** Every party with broker credentials: each one a contract names (the services are not parties). */
const parties = desired.users.filter((u) => u !== GATEWAY && u !== AUDIT_SERVICE).sort();
const password = (party: string) => readCredential(testCredentialsFile(), party);

const WRITE_CONTROL = "bzk.rvig";

/** A refusal by the broker's authorizer, not a time-out or a client-side error that would pass for one. */
const AUTHZ = /^(Topic|Group|TransactionalId|Cluster)AuthorizationException$/;

interface Case {
  /** What the row in the summary is counted under. */
  kind: string;
  probe: Probe;
  /** "refused": must fail with an authorization error; "allowed": the control that proves the probe can succeed. */
  expect: "refused" | "allowed" | "unauthenticated";
}

/**
 * Every attempt around the gateway a party could make with its own broker credentials, for every party: the
 * attempts the design forbids, and beside them controls the same party may make, so that a probe that fails for any
 * other reason (a wrong address, a client that never connects) shows up as a failed control, not as a pass.
 */
function cases(): Case[] {
  const out: Case[] = [];
  const as = (party: string, kind: string, expect: Case["expect"], op: ProbeOp) =>
    out.push({ kind, expect, probe: { ...op, user: party, password: password(party) } });
  parties.forEach((party, i) => {
    const other = parties[(i + 1) % parties.length] as string;
    const own = deadLetterTopic(party);
    // Reads: the canonical record is the full event; audit.log names who saw what; another party's deliveries and
    // dead letters are its projection, its refusals its own records.
    for (const t of canonical) as(party, "read canonical", "refused", { op: "read", topic: t });
    as(party, "read audit.log", "refused", { op: "read", topic: AUDIT_TOPIC });
    for (const t of [...deliveriesOf(other), deadLetterTopic(other)])
      as(party, "read another party's topics", "refused", { op: "read", topic: t });
    if (topics.includes(rejectedTopic(other)))
      as(party, "read another party's topics", "refused", { op: "read", topic: rejectedTopic(other) });
    // Writes: straight into the canonical record or the evidence, in another party's name, or forging what the
    // gateway alone writes to the party (its deliveries and refusals).
    for (const t of canonical) as(party, "write canonical", "refused", { op: "write", topic: t });
    as(party, "write audit.log", "refused", { op: "write", topic: AUDIT_TOPIC });
    if (topics.includes(ingressTopic(other)))
      as(party, "write another party's ingress", "refused", { op: "write", topic: ingressTopic(other) });
    for (const t of [...deliveriesOf(other), deadLetterTopic(other)])
      as(party, "write another party's topics", "refused", { op: "write", topic: t });
    for (const t of deliveriesOf(party))
      as(party, "write own deliveries (forging the gateway)", "refused", { op: "write", topic: t });
    if (topics.includes(rejectedTopic(party)))
      as(party, "write own deliveries (forging the gateway)", "refused", {
        op: "write",
        topic: rejectedTopic(party),
      });
    // Administration: topics, configs, records, ACLs.
    as(party, "create topics", "refused", {
      op: "create",
      topic: `${CANONICAL_PREFIX}forged.${uniqueName("x")}`,
    });
    as(party, "create topics", "refused", { op: "create", topic: `${ingressTopic(party)}.extra` });
    as(party, "create topics", "refused", { op: "create", topic: uniqueName("scratch") });
    as(party, "delete, reconfigure or truncate own topic", "refused", { op: "delete", topic: own });
    as(party, "delete, reconfigure or truncate own topic", "refused", { op: "alter-config", topic: own });
    as(party, "delete, reconfigure or truncate own topic", "refused", { op: "delete-records", topic: own });
    as(party, "describe ACLs", "refused", { op: "describe-acls" });
    // Groups and transactions: joining another party's group (or the gateway's, whose partitions it would steal),
    // moving another group's offsets, fencing the gateway's transactional producers.
    for (const group of [
      `${other}.${uniqueName("probe")}`,
      `${GATEWAY}.${uniqueName("probe")}`,
      `${AUDIT_SERVICE}.probe`,
    ])
      as(party, "join another's consumer group", "refused", { op: "subscribe", topic: own, group });
    as(party, "commit another's group offsets", "refused", {
      op: "commit",
      group: `${other}.agency`,
      topic: own,
    });
    as(party, "commit another's group offsets", "refused", {
      op: "commit",
      group: `${GATEWAY}.delivery`,
      topic: own,
    });
    as(party, "use the gateway's transactional ids", "refused", {
      op: "transaction",
      transactionalId: `${GATEWAY}.tx.${uniqueName("probe")}`,
    });
    // Controls: the party's own dead-letter topic, in a group under its own prefix.
    as(party, "control: read own dead letters", "allowed", { op: "read", topic: own });
    as(party, "control: read own dead letters", "allowed", {
      op: "subscribe",
      topic: own,
      group: `${party}.${uniqueName("probe")}`,
    });
  });
  // A write control, on a party no agency service runs for (a probe record is not a dead letter to replay).
  as(WRITE_CONTROL, "control: write own dead letters", "allowed", {
    op: "write",
    topic: deadLetterTopic(WRITE_CONTROL),
  });
  // Without credentials, or with a wrong password, there is no session to authorize at all.
  const someone = parties[0] as string;
  out.push(
    {
      kind: "no credentials",
      expect: "unauthenticated",
      probe: { op: "read", topic: canonical[0] as string, user: someone, password: "" },
    },
    {
      kind: "no credentials",
      expect: "unauthenticated",
      probe: { op: "write", topic: ingressTopic("uitlener.90000001"), user: someone, password: "" },
    },
    {
      kind: "wrong password",
      expect: "unauthenticated",
      probe: { op: "read", topic: deadLetterTopic(someone), user: someone, password: "wrong" },
    },
  );
  return out;
}

describe(`no way around the gateway: Kafka's Java clients with each party's own credentials (${stack.mode})`, () => {
  const all = cases();
  let results: Awaited<ReturnType<typeof probeAccess>> = [];

  beforeAll(async () => {
    results = await probeAccess(
      stack,
      all.map((c) => c.probe),
    );
    const rows = new Map<string, { n: number; outcomes: Map<string, number> }>();
    all.forEach((c, i) => {
      const r = results[i];
      const row = rows.get(c.kind) ?? { n: 0, outcomes: new Map<string, number>() };
      const outcome = !r ? "none" : r.ok ? "OK" : r.error;
      row.n++;
      row.outcomes.set(outcome, (row.outcomes.get(outcome) ?? 0) + 1);
      rows.set(c.kind, row);
    });
    const lines = [...rows].map(
      ([kind, r]) =>
        `  ${kind.padEnd(46)} ${String(r.n).padStart(4)}  ${[...r.outcomes].map(([o, n]) => `${o} ×${n}`).join(", ")}`,
    );
    process.stderr.write(
      `access probes, ${all.length} in all, ${parties.length} parties:\n${lines.join("\n")}\n`,
    );
  }, 300_000);

  it(`covers every party and at least 500 attempts`, () => {
    expect(parties.length).toBeGreaterThanOrEqual(10);
    expect(all.filter((c) => c.expect === "refused").length).toBeGreaterThanOrEqual(500);
  });

  it("lets each party do what its own ACLs allow (the controls)", () => {
    const failed = all.flatMap((c, i) => {
      const r = results[i];
      return c.expect === "allowed" && !r?.ok
        ? [
            `${c.probe.user} ${c.probe.op} ${JSON.stringify(c.probe)}: ${r && !r.ok ? `${r.error} ${r.message}` : "no answer"}`,
          ]
        : [];
    });
    expect(failed).toEqual([]);
  });

  it("refuses every other attempt with an authorization error from the broker", () => {
    const through = all.flatMap((c, i) => {
      const r = results[i];
      if (c.expect !== "refused") return [];
      if (r && !r.ok && AUTHZ.test(r.error)) return [];
      const { password: _secret, ...shown } = c.probe;
      return [
        `${c.kind}: ${JSON.stringify(shown)} → ${!r ? "no answer" : r.ok ? "ALLOWED" : `${r.error}: ${r.message}`}`,
      ];
    });
    expect(through).toEqual([]);
  });

  it("gives no session without valid credentials", () => {
    const through = all.flatMap((c, i) => {
      const r = results[i];
      if (c.expect !== "unauthenticated") return [];
      return !r || r.ok ? [`${c.kind}: ${c.probe.op} ${"topic" in c.probe ? c.probe.topic : ""}`] : [];
    });
    expect(through).toEqual([]);
    const wrong = all.findIndex((c) => c.kind === "wrong password");
    expect(results[wrong]).toMatchObject({ ok: false, error: "SaslAuthenticationException" });
  });
});
