import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { readInfraEnv } from "./env";
import { basicAuth, type RegistryCredential } from "./registry";
import { testCredentialsFile, testStack } from "./test";

const stack = testStack();
const url = stack.registry.url;
const json = { "content-type": "application/vnd.schemaregistry.v1+json" };
/** A subject provisioning registered from the contracts: the thing a rogue caller would try to change. */
const SUBJECT = "events.arbo.accident-reported-value";
const probe = JSON.stringify({
  schema: JSON.stringify({
    type: "record",
    name: "Rogue",
    namespace: "nl.grondslag.rogue",
    fields: [{ name: "x", type: "string" }],
  }),
});

type Caller = { name: string; headers: Record<string, string> };

/** Every way a write can reach the registry's Confluent API: register, delete a subject or version, configure. */
async function writes(caller: Caller) {
  const call = (method: string, path: string, body?: string) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...json, ...caller.headers },
      ...(body ? { body } : {}),
    }).then((r) => `${method} ${path} → ${r.status}`);
  return [
    await call("POST", `/subjects/${SUBJECT}/versions`, probe),
    await call("POST", `/subjects/rogue-value/versions`, probe),
    await call("DELETE", `/subjects/${SUBJECT}/versions/1`),
    await call("DELETE", `/subjects/${SUBJECT}`),
    await call("PUT", `/config/${SUBJECT}`, JSON.stringify({ compatibility: "NONE" })),
    await call("PUT", `/config`, JSON.stringify({ compatibility: "NONE" })),
    await call("PUT", `/mode`, JSON.stringify({ mode: "IMPORT" })),
  ];
}

const asAdmin = { headers: { authorization: basicAuth(stack.registry.admin) } };

async function subjectState() {
  const versions = (await (await fetch(`${url}/subjects/${SUBJECT}/versions`, asAdmin)).json()) as number[];
  const config = (await (await fetch(`${url}/config/${SUBJECT}`, asAdmin)).json()) as object;
  const global = (await (await fetch(`${url}/config`, asAdmin)).json()) as object;
  const subjects = (await (await fetch(`${url}/subjects`, asAdmin)).json()) as string[];
  return { versions, config, global, rogue: subjects.includes("rogue-value") };
}

/**
 * The registry is no longer open: before this hardening anyone on the machine could register, delete and
 * reconfigure subjects with plain curl. Now every write needs the provisioning account; the gateway's account
 * reads only; anonymous callers and parties (whatever credentials they try) are refused.
 */
describe(`the schema registry (${stack.mode}) refuses every writer but provisioning`, () => {
  // A party's SCRAM password, as contracts:apply generated it (infra does not depend on the contracts package).
  const users = (
    JSON.parse(fs.readFileSync(testCredentialsFile(), "utf8")) as { users: Record<string, string> }
  ).users;
  const party = { name: "uwv", password: users.uwv ?? "" };
  const refusedAll = (lines: string[], status: number) =>
    expect(lines.filter((l) => !l.endsWith(`→ ${status}`))).toEqual([]);

  it("anonymous callers can neither read nor write", async () => {
    const before = await subjectState();
    refusedAll(await writes({ name: "anonymous", headers: {} }), 401);
    expect((await fetch(`${url}/subjects`)).status).toBe(401);
    expect((await fetch(`${url}/schemas/ids/1`)).status).toBe(401);
    expect(await subjectState()).toEqual(before);
  });

  it("a party is refused with its Kafka credentials, a bearer token, or a guessed account", async () => {
    const before = await subjectState();
    const attempts: Caller[] = [
      {
        name: "scram",
        headers: { authorization: basicAuth({ username: party.name, password: party.password }) },
      },
      { name: "bearer", headers: { authorization: "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln" } },
      {
        name: "guessed",
        headers: {
          authorization: basicAuth({ username: stack.registry.admin.username, password: party.password }),
        },
      },
    ];
    for (const a of attempts) refusedAll(await writes(a), 401);
    expect(await subjectState()).toEqual(before);
  });

  it("the gateway's account reads and looks ids up, and every write is refused (403)", async () => {
    const gw: RegistryCredential = stack.registry.gateway;
    const before = await subjectState();
    refusedAll(await writes({ name: "gateway", headers: { authorization: basicAuth(gw) } }), 403);
    const latest = await fetch(`${url}/subjects/${SUBJECT}/versions/latest`, {
      headers: { authorization: basicAuth(gw) },
    });
    expect(latest.status).toBe(200);
    const { schema, id } = (await latest.json()) as { schema: string; id: number };
    const lookup = await fetch(`${url}/subjects/${SUBJECT}`, {
      method: "POST",
      headers: { ...json, authorization: basicAuth(gw) },
      body: JSON.stringify({ schema }),
    });
    expect(lookup.status).toBe(200);
    expect(((await lookup.json()) as { id: number }).id).toBe(id);
    expect(await subjectState()).toEqual(before);
  });

  it("the native registry's management port serves health, not the registry's API", async () => {
    // Only the native stack's management port is known here (docker and external do not publish one).
    if (stack.mode !== "native") return;
    const mgmt = new URL(url);
    mgmt.port = String(readInfraEnv().GRONDSLAG_REGISTRY_MANAGEMENT_PORT);
    expect((await fetch(`${mgmt.origin}/health`)).status).toBe(200);
    expect((await fetch(`${mgmt.origin}/apis/ccompat/v7/subjects`)).status).toBe(404);
    const write = await fetch(`${mgmt.origin}/apis/ccompat/v7/subjects/rogue-value/versions`, {
      method: "POST",
      headers: json,
      body: probe,
    });
    expect(write.status).toBe(404);
  });
});
