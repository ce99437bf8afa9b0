// `npx tsx infra/src/cluster-memory.ts`: the resident memory of each Kafka node of the running default stack
// (`npm run infra:up [-- --brokers 3]`), idle and under a produce load from Kafka's own ProducerPerformance
// (acks=all, 1 KiB records, as fast as it goes) on a topic of its own replicated over every node. Prints one line a
// node; the figures in infra/README.md come from here.
import fs from "node:fs";
import { kafkaClient } from "./client";
import { currentStackConfig } from "./harness";
import { adminClientProperties, clusterReplication, kafkaClasspath, runningKafka } from "./kafka";
import { run } from "./proc";

const RECORDS = Number(process.env.RECORDS ?? 300_000);
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function main() {
  const config = currentStackConfig();
  const running = runningKafka();
  if (!running) throw new Error("no stack runs: npm run infra:up [-- --brokers 3] first");
  const pids = running.pids.map((p, i) => {
    if (p === undefined) throw new Error(`node ${i + 1} is down: npm run infra:up to start it`);
    return p;
  });
  const idle = pids.map(rssMb);
  const { replicationFactor, minInsync } = clusterReplication(pids.length);
  const topic = `perf.memory-${Date.now()}`;
  const admin = kafkaClient(config.kafka).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: 6,
        replicationFactor,
        configEntries: [{ name: "min.insync.replicas", value: String(minInsync) }],
      },
    ],
  });
  const { file: props, cleanup } = adminClientProperties(config.kafka, ["acks=all"]);
  const peak = [...idle];
  const timer = setInterval(() => pids.forEach((p, i) => (peak[i] = Math.max(peak[i] ?? 0, rssMb(p)))), 250);
  const started = Date.now();
  let summary = "";
  try {
    const out = await run("java", [
      "-Xmx512m",
      "-cp",
      kafkaClasspath(),
      "org.apache.kafka.tools.ProducerPerformance",
      "--topic",
      topic,
      "--num-records",
      String(RECORDS),
      "--record-size",
      "1024",
      "--throughput",
      "-1",
      "--producer.config",
      props,
    ]);
    summary = out.trim().split("\n").pop() ?? "";
  } finally {
    clearInterval(timer);
    cleanup();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }
  const after = pids.map(rssMb);
  process.stdout.write(
    `${pids.length} node(s), replication ${replicationFactor}, min.insync.replicas ${minInsync}; ProducerPerformance ` +
      `${RECORDS} × 1 KiB acks=all in ${Math.round((Date.now() - started) / 1000)} s: ${summary}\n`,
  );
  pids.forEach((p, i) =>
    process.stdout.write(
      `  node ${i + 1} (pid ${p}): RSS idle ${Math.round(idle[i] ?? 0)} MB, peak under load ${Math.round(peak[i] ?? 0)} MB, after ${Math.round(after[i] ?? 0)} MB\n`,
    ),
  );
  const total = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0));
  process.stdout.write(`  all nodes: idle ${total(idle)} MB, peak ${total(peak)} MB\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
