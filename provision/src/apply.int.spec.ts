import { CREDENTIALS_FILE } from "@grondslag/infra";
import { testKafka, testStack } from "@grondslag/infra/test";
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalogue, type Catalogue } from "@grondslag/contracts";
import { applyContracts, describeAllAcls } from "./apply";
import { aclKey, desiredState, isManagedTopic } from "@grondslag/contracts/plan";

const stack = testStack();
const opts = { dryRun: false, credentialsFile: CREDENTIALS_FILE };

/** ACLs provisioning owns: on its topic namespaces, or held by a principal it derives. */
async function managedAcls(admin: Admin, principals: Set<string>): Promise<string[]> {
  const acls = await describeAllAcls(admin);
  return acls
    .filter((a) => principals.has(a.principal) || (a.resourceType === "TOPIC" && isManagedTopic(a.resource)))
    .map(aclKey)
    .sort();
}

describe("contracts:apply against the real stack", () => {
  const catalogue = loadCatalogue();
  const admin = testKafka(stack).admin();

  beforeAll(() => admin.connect());
  afterAll(async () => {
    // Leave the stack as the real contracts describe it, whatever a test above did.
    await applyContracts(catalogue, stack, opts);
    await admin.disconnect();
  });

  it("describing the ACLs gives exactly the derived set, and a second apply changes nothing", async () => {
    await applyContracts(catalogue, stack, opts);
    const desired = desiredState(catalogue);
    const principals = new Set(desired.users.map((u) => `User:${u}`));
    expect(await managedAcls(admin, principals)).toEqual(desired.acls.map(aclKey).sort());
    // UWV reads its own deliveries and rejections, writes its own ingress, and reads and writes its own dead letters
    // (its service parks what it cannot handle there): nothing else.
    expect(desired.acls.filter((a) => a.principal === "User:uwv").map(aclKey)).toEqual(
      expect.arrayContaining([
        "User:uwv WRITE TOPIC:LITERAL:ingress.uwv",
        "User:uwv READ TOPIC:LITERAL:rejected.uwv",
        "User:uwv READ TOPIC:LITERAL:deliver.uwv.arbo.accident-reported",
        "User:uwv READ TOPIC:LITERAL:deadletter.uwv",
      ]),
    );
    expect(
      desired.acls
        .filter((a) => a.principal === "User:uwv" && a.operation === "WRITE")
        .map((a) => a.resource)
        .sort(),
    ).toEqual(["deadletter.uwv", "ingress.uwv"]);
    const topics = await admin.listTopics();
    for (const t of desired.topics) expect(topics).toContain(t.name);

    const again = await applyContracts(catalogue, stack, opts);
    expect(again.changes).toEqual([]);
  });

  it("the dry run prints the plan as a diff and changes nothing", async () => {
    const grant = "User:svb READ TOPIC:LITERAL:deliver.svb.huisvesting.violation-found";
    const extended = withConsumer(catalogue, "svb", "huisvesting.violation-found");
    const dry = await applyContracts(extended, stack, { ...opts, dryRun: true });
    // The topic and subject may remain from an earlier run (topics are never deleted); the ACL never does.
    expect(dry.changes.map((c) => `${c.op} ${c.kind} ${c.what}`)).toContain(`+ acl ${grant}`);
    expect((await describeAllAcls(admin)).map(aclKey)).not.toContain(grant);
    const after = await applyContracts(catalogue, stack, { ...opts, dryRun: true });
    expect(after.changes).toEqual([]);
  });

  it("adding a consumer grants its ACL; removing it from the contract removes the ACL again", async () => {
    const grant = "User:svb READ TOPIC:LITERAL:deliver.svb.huisvesting.violation-found";
    const extended = withConsumer(catalogue, "svb", "huisvesting.violation-found");
    await applyContracts(extended, stack, opts);
    expect((await describeAllAcls(admin)).map(aclKey)).toContain(grant);

    const removed = await applyContracts(catalogue, stack, opts);
    expect(removed.changes.map((c) => `${c.op} ${c.kind} ${c.what}`)).toContain(`- acl ${grant}`);
    expect((await describeAllAcls(admin)).map(aclKey)).not.toContain(grant);
    // The topic stays (deleting would lose data) and is reported.
    expect(removed.orphanTopics).toContain("deliver.svb.huisvesting.violation-found");
  });
});

/** The catalogue with one more consumer entry (a copy: the loaded catalogue is frozen). */
function withConsumer(catalogue: Catalogue, party: string, topic: "huisvesting.violation-found"): Catalogue {
  const copy = structuredClone(catalogue);
  const contract = copy.topics[topic];
  if (!contract) throw new Error(`no contract for ${topic}`);
  (contract.consumers as unknown[]).push({
    party,
    grondslag: "suwi-art64",
    purposes: ["lsi-samenwerking"],
    fields: ["subjectKvk"],
  });
  return copy;
}
