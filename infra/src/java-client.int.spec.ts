import { ingressTopic } from "@grondslag/wire";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { javaConsume, javaProduce, readUntil, testCredentialsFile, testStack, uniqueName } from "./test";

const stack = testStack();
const PARTY = "uitlener.90000001";
// The party's SCRAM password as contracts:apply generated it (infra does not depend on the contracts package).
const users = (
  JSON.parse(fs.readFileSync(testCredentialsFile(), "utf8")) as { users: Record<string, string> }
).users;
const party = { name: PARTY, password: users[PARTY] ?? "" };
const REFUSED = /TopicAuthorizationException|Not authorized to access topics/;

/**
 * A foreign client: Kafka's own Java console tools (kafka-clients 4.1, not kafkajs) with a party's SCRAM-SHA-256
 * credentials. They authenticate, and the broker's ACLs hold them to the party's ingress topic.
 */
describe(`Kafka's Java clients as a party (${stack.mode})`, () => {
  it("produce to the party's own ingress topic", async () => {
    const marker = uniqueName("java-client");
    const run = await javaProduce(stack, party, ingressTopic(PARTY), [marker]);
    expect(run.output).not.toMatch(REFUSED);
    expect(run.output).not.toMatch(/SaslAuthenticationException|Authentication failed/);
    expect(run.code).toBe(0);
    const seen = await readUntil(stack, {
      topic: ingressTopic(PARTY),
      map: (m) => m.value?.toString(),
      found: (values) => values.includes(marker),
    });
    expect(seen).toContain(marker);
  });

  it("are refused writing a canonical topic (events.*)", async () => {
    const run = await javaProduce(stack, party, "events.arbo.accident-reported", ["not yours"]);
    expect(run.output).toMatch(REFUSED);
    expect(run.output).toContain("events.arbo.accident-reported");
  });

  it("are refused reading the audit log", async () => {
    const run = await javaConsume(stack, party, "audit.log", {
      group: `${PARTY}.${uniqueName("java-test")}`,
    });
    expect(run.output).toMatch(REFUSED);
    expect(run.output).toContain("audit.log");
  });

  it("are refused with a wrong password (SCRAM really authenticates)", async () => {
    const run = await javaProduce(stack, { name: PARTY, password: "wrong" }, ingressTopic(PARTY), ["x"]);
    expect(run.output).toMatch(/SaslAuthenticationException|Authentication failed/);
  });
});
