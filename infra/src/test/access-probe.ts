import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { StackConfig } from "../config";
import { ensureKafkaJars, kafkaClasspath } from "../kafka";
import { run } from "../proc";
import { compiledTool } from "../scram";

/** What infra/kafka/AccessProbe.java can try; see its header for what each op does. */
export type ProbeOp =
  | { op: "read"; topic: string }
  | { op: "subscribe"; topic: string; group: string }
  | { op: "write"; topic: string }
  | { op: "create"; topic: string }
  | { op: "delete"; topic: string }
  | { op: "alter-config"; topic: string }
  | { op: "delete-records"; topic: string }
  | { op: "commit"; group: string; topic: string }
  | { op: "transaction"; transactionalId: string }
  | { op: "describe-acls" };

/** One attempt: `user` with `password` (empty: no SASL at all) tries `probe`. */
export type Probe = ProbeOp & { user: string; password: string };

export type ProbeResult =
  | { ok: true }
  | {
      ok: false;
      /** The innermost exception's simple class name, e.g. TopicAuthorizationException. */
      error: string;
      message: string;
    };

const args = (p: ProbeOp): string[] => {
  switch (p.op) {
    case "subscribe":
      return [p.topic, p.group];
    case "commit":
      return [p.group, p.topic];
    case "transaction":
      return [p.transactionalId];
    case "describe-acls":
      return [];
    default:
      return [p.topic];
  }
};

/**
 * Runs every probe with Kafka's own Java clients (kafka-clients from the fetched jars, not kafkajs), each as its
 * own client with the probe's credentials, in one JVM; returns the broker's answer to each, in order. The
 * passwords travel on the child's stdin, never on its command line.
 */
export async function probeAccess(config: StackConfig, probes: readonly Probe[]): Promise<ProbeResult[]> {
  if (probes.length === 0) return [];
  await ensureKafkaJars(() => {});
  const classes = await compiledTool("AccessProbe");
  for (const p of probes) {
    for (const field of [p.user, p.password, ...args(p)]) {
      if (/[\t\n\r]/.test(field))
        throw new Error(`a probe field may not hold tabs or newlines: ${p.op} ${p.user}`);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-access-probe-"));
  const answersFile = path.join(dir, "answers.tsv");
  let output: string;
  let written: string;
  try {
    output = await run(
      "java",
      [
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        `${kafkaClasspath()}:${classes}`,
        "AccessProbe",
        answersFile,
      ],
      {
        input:
          probes.map((p, i) => [`probe${i}`, p.user, p.password, p.op, ...args(p)].join("\t")).join("\n") +
          "\n",
        env: { ...process.env, GRONDSLAG_KAFKA_BROKERS: config.kafka.brokers.join(",") },
      },
    );
    written = fs.readFileSync(answersFile, "utf8");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const answers = new Map<number, ProbeResult>();
  for (const line of written.split("\n")) {
    const m = /^probe(\d+)\t(OK|FAIL)(?:\t([^\t]*)\t(.*))?$/.exec(line);
    if (!m) continue;
    answers.set(
      Number(m[1]),
      m[2] === "OK" ? { ok: true } : { ok: false, error: m[3] ?? "", message: m[4] ?? "" },
    );
  }
  return probes.map((p, i) => {
    const a = answers.get(i);
    if (!a)
      throw new Error(
        `AccessProbe printed no answer for probe ${i} (${p.op} as ${p.user}):\n${output.slice(-3000)}`,
      );
    return a;
  });
}
