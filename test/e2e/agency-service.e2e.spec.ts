import crypto from "node:crypto";
import { endOffsets, testCredentialsFile, testKafka, testStack } from "@grondslag/infra/test";
import { agency as nlaAgency } from "@grondslag/nla";
import { exampleEvent, type TopicMap } from "@grondslag/schemas";
import { createClient } from "@grondslag/sdk";
import { BUS_HEADERS, deliveryTopic } from "@grondslag/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgency, type AgencyState, type RunningAgency } from "../src/agency-harness";
import { startGateway } from "../src/gateway-harness";

/**
 * A real agency service, the Arbeidsinspectie's (services/nla), on the real stack and gateway: an accident report
 * opens one case; the same delivery handed out again (its consumer group rewound, the service restarted) changes
 * nothing; a record in its delivery topic that does not decode is parked in deadletter.nla while the next report is
 * handled.
 */
const stack = testStack();
const credentials = testCredentialsFile();
const TOPIC = "arbo.accident-reported";

describe("the Arbeidsinspectie's service (real gateway, real stack)", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let nla: RunningAgency;
  let report: (ref: string) => Promise<void>;

  beforeAll(async () => {
    gw = await startGateway(stack, credentials, { ingressParties: ["nla"] });
    nla = await startAgency(nlaAgency, stack, credentials, gw);
    const inlener = createClient<TopicMap>({ baseUrl: gw.base, token: () => gw.token("inlener.90000101") });
    report = async (ref) => {
      // A time of its own per report: one accident (inlener, victim, time) is one case.
      const accidentTime = new Date(Date.now() - crypto.randomInt(1, 10_000_000));
      await inlener.publish(
        TOPIC,
        { ...exampleEvent(TOPIC), reportReference: ref, accidentTime, eventTime: new Date() },
        { grondslag: "arbowet-art9", purpose: "ongevalsmelding" },
      );
    };
  });

  afterAll(async () => {
    await nla?.stop();
    await gw?.stop();
  });

  const casesOf = (s: AgencyState, ref: string) =>
    (s.state.cases as { reports?: string[] }[]).filter((c) => c.reports?.includes(`inlener.90000101:${ref}`));

  it("opens one case per serious accident, and a redelivered report opens none", async () => {
    const ref = `T-${crypto.randomBytes(4).toString("hex")}`;
    const group = `${nla.groupPrefix}.${TOPIC}`;
    const topic = deliveryTopic("nla", TOPIC);
    const before = await endOffsets(stack, [topic]);
    await report(ref);
    await nla.until((s) => casesOf(s, ref).length === 1, "the case opened");
    await nla.stop({ keepSchema: true });
    const admin = testKafka(stack).admin();
    await admin.connect();
    // Back to where the topic ended before the report: the report is handed out again (and whatever other specs
    // had delivered to nla since, which this service never saw).
    await admin.setOffsets({ groupId: group, topic, partitions: before[topic] ?? [] });
    await admin.disconnect();
    nla = await startAgency(nlaAgency, stack, credentials, gw, {
      schema: nla.schema,
      groupPrefix: nla.groupPrefix,
    });
    const deadline = Date.now() + 30_000;
    const duplicate = new RegExp(`agency_deliveries_total\\{topic="${TOPIC}",outcome="duplicate"\\} [1-9]`);
    while (!duplicate.test(await (await fetch(`${nla.url}/metrics`)).text())) {
      if (Date.now() > deadline) throw new Error("the rewound report was not handed out again within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const again = (await nla.desk<AgencyState>("GET", "/v1/state")).body;
    const [only] = casesOf(again, ref);
    expect(casesOf(again, ref)).toHaveLength(1);
    expect(only?.reports?.filter((r) => r === `inlener.90000101:${ref}`)).toHaveLength(1);
  });

  it("parks an undecodable delivery in deadletter.nla and handles the next report", async () => {
    const producer = testKafka(stack).producer();
    await producer.connect();
    const eventId = crypto.randomUUID();
    await producer.send({
      topic: deliveryTopic("nla", TOPIC),
      messages: [
        { value: Buffer.from([0, 0, 0, 0x7f, 0xfe, 9, 9]), headers: { [BUS_HEADERS.eventId]: eventId } },
      ],
    });
    await producer.disconnect();
    const ref = `T-${crypto.randomBytes(4).toString("hex")}`;
    await report(ref);
    const s = await nla.until((x) => casesOf(x, ref).length === 1, "the next report handled");
    expect(s.deadLetters.find((l) => l.eventId === eventId)?.reason).toMatch(/^undecodable delivery/);
  });
});
