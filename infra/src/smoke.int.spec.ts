import fs from "node:fs";
import csr from "@kafkajs/confluent-schema-registry";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KAFKA_AUTHORIZER_LOG } from "./kafka";
import { basicAuth } from "./registry";
import { deleteScramUsers, upsertScramUsers } from "./scram";
import { testKafka, testStack, uniqueName, within } from "./test";
import { waitFor } from "./proc";

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const stack = testStack();

/**
 * Proves the client choices against real processes before anything is built on them: kafkajs 2.2.4 against a
 * Kafka 4.x broker (KIP-896 removed old protocol versions), SASL/SCRAM principals with StandardAuthorizer ACLs,
 * and @kafkajs/confluent-schema-registry against Apicurio's Confluent-compatible API.
 */
describe(`smoke: Kafka ${stack.kafka.version} (${stack.mode}) + Apicurio Registry ${stack.registry.version}`, () => {
  const topic = uniqueName("smoke");
  const group = uniqueName("smoke-group");
  const writer = { name: uniqueName("smoke.writer"), password: uniqueName("pw") };
  const stranger = { name: uniqueName("smoke.stranger"), password: uniqueName("pw") };
  const admin = testKafka(stack).admin();
  // The admin account: the smoke test registers subjects, which only provisioning may do.
  const registry = new csr.SchemaRegistry({ host: stack.registry.url, auth: stack.registry.admin });
  const asAdmin = { headers: { authorization: basicAuth(stack.registry.admin) } };
  const subject = `${topic}-value`;
  const v1 = {
    type: "record",
    name: "Probe",
    namespace: "nl.grondslag.smoke",
    fields: [
      { name: "kvk", type: "string" },
      { name: "seq", type: "int" },
    ],
  };

  beforeAll(async () => {
    await admin.connect();
    await upsertScramUsers(stack, [writer, stranger]);
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const allow = (resourceType: number, resourceName: string, operation: number) => ({
      resourceType,
      resourceName,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${writer.name}`,
      host: "*",
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
    await admin.createAcls({
      acl: [
        allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.WRITE),
        allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.READ),
        allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.DESCRIBE),
        allow(AclResourceTypes.GROUP, group, AclOperationTypes.READ),
      ],
    });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin
      .deleteAcls({
        filters: [
          {
            resourceType: AclResourceTypes.ANY,
            resourcePatternType: ResourcePatternTypes.ANY,
            principal: `User:${writer.name}`,
            host: "*",
            operation: AclOperationTypes.ANY,
            permissionType: AclPermissionTypes.ANY,
          },
        ],
      })
      .catch(() => undefined);
    await deleteScramUsers(stack, [writer.name, stranger.name]);
    await admin.disconnect();
  });

  it("the admin client created the ACLs, and describing them gives exactly those", async () => {
    const expected = [
      `${AclResourceTypes.GROUP}:${group}:${AclOperationTypes.READ}`,
      `${AclResourceTypes.TOPIC}:${topic}:${AclOperationTypes.DESCRIBE}`,
      `${AclResourceTypes.TOPIC}:${topic}:${AclOperationTypes.READ}`,
      `${AclResourceTypes.TOPIC}:${topic}:${AclOperationTypes.WRITE}`,
    ].sort();
    const describe = async () => {
      const { resources } = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: `User:${writer.name}`,
        host: "*",
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      return resources
        .flatMap((r) => r.acls.map((a) => `${r.resourceType}:${r.resourceName}:${a.operation}`))
        .sort();
    };
    // On a cluster another broker may answer before the controller's metadata reached it: at once on one node.
    const acls = await waitFor(
      "the new ACLs on every broker",
      async () => {
        const seen = await describe();
        return seen.length >= expected.length ? seen : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(acls).toEqual(expected);
  });

  it("an authorised SCRAM principal produces an Avro record that a consumer group reads back and decodes", async () => {
    const { id } = await registry.register(
      { type: csr.SchemaType.AVRO, schema: JSON.stringify(v1) },
      { subject },
    );
    const client = testKafka(stack, writer);
    const producer = client.producer({ allowAutoTopicCreation: false });
    const consumer = client.consumer({ groupId: group });
    await producer.connect();
    await consumer.connect();
    try {
      const value = await registry.encode(id, { kvk: "12345678", seq: 1 });
      await producer.send({ topic, acks: -1, messages: [{ key: "12345678", value }] });
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await within(
        30_000,
        "consuming the smoke record",
        new Promise<unknown>((resolve, reject) => {
          consumer
            .run({
              eachMessage: async ({ message }) => {
                if (message.value) resolve(await registry.decode(message.value));
              },
            })
            .catch(reject);
        }),
      );
      expect(received).toMatchObject({ kvk: "12345678", seq: 1 });
      // The registry id in the wire header is the one the registry answers for.
      const byId = await fetch(`${stack.registry.url}/schemas/ids/${id}`, asAdmin);
      expect(byId.status).toBe(200);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it("a principal without an ACL is refused with an authorization error, and the broker logs the denial", async () => {
    const producer = testKafka(stack, stranger).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const error = await producer.send({ topic, messages: [{ value: "x" }] }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/not authorized/i);
    } finally {
      await producer.disconnect();
    }
    if (stack.mode === "native") {
      await waitFor(
        "the denial in the authorizer log",
        () =>
          Promise.resolve(
            fs.readFileSync(KAFKA_AUTHORIZER_LOG, "utf8").includes(`User:${stranger.name} is Denied`)
              ? true
              : undefined,
          ),
        { timeoutMs: 10_000 },
      );
    }
  });

  it("a made-up topic name is never created, not even by the super user", async () => {
    const ghost = uniqueName("ghost");
    const producer = testKafka(stack).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: ghost, acks: -1, timeout: 3000, messages: [{ value: "x" }] }),
      ).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(ghost);
  });

  it("the registry refuses an incompatible schema version and keeps ids stable for a compatible one", async () => {
    await registry.register({ type: csr.SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    // A new required field without a default breaks BACKWARD: a v2 reader cannot read v1 data.
    const breaking = { ...v1, fields: [...v1.fields, { name: "reason", type: "string" }] };
    await expect(
      registry.register({ type: csr.SchemaType.AVRO, schema: JSON.stringify(breaking) }, { subject }),
    ).rejects.toMatchObject({ status: 409 });

    const compatible = { ...v1, fields: [...v1.fields, { name: "reason", type: "string", default: "" }] };
    const { id: v2 } = await registry.register(
      { type: csr.SchemaType.AVRO, schema: JSON.stringify(compatible) },
      { subject },
    );
    const decoded: unknown = await registry.decode(
      await registry.encode(v2, { kvk: "87654321", seq: 2, reason: "probe" }),
    );
    expect(decoded).toMatchObject({ kvk: "87654321", seq: 2, reason: "probe" });
    const byId = (await (await fetch(`${stack.registry.url}/schemas/ids/${v2}`, asAdmin)).json()) as {
      schema: string;
    };
    const served = JSON.parse(byId.schema) as { name: string; fields: { name: string }[] };
    expect(served.name).toBe("Probe");
    expect(served.fields.map((f) => f.name)).toEqual(["kvk", "seq", "reason"]);
  });
});
