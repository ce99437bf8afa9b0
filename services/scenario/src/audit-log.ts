import { readAuditRecord, type AuditRecord } from "@grondslag/kit";
import { kafkaClient, type StackConfig } from "@grondslag/infra";

/**
 * Reads `audit.log` (as the super user: this is the operator's view) until `done` holds for the records of this
 * run's trace, or the deadline passes. Returns them, deduplicated by record id.
 */
export async function readAudit(
  stack: StackConfig,
  traceId: string,
  done: (records: AuditRecord[]) => boolean,
  timeoutMs = 60_000,
): Promise<{ records: AuditRecord[]; complete: boolean }> {
  const kafka = kafkaClient(stack.kafka, undefined, { clientId: "grondslag-scenario" });
  const consumer = kafka.consumer({ groupId: `grondslag.scenario.${traceId}` });
  const byId = new Map<string, AuditRecord>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: ["audit.log"], fromBeginning: true });
    const complete = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            // Records of older runs on this stack may predate the Avro record: not this run's, skip them.
            const r = readAuditRecord(message.value);
            if (r?.traceId !== traceId) return;
            byId.set(r.id, r);
            if (done([...byId.values()])) {
              clearTimeout(timer);
              resolve(true);
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
    return { records: [...byId.values()].sort((a, b) => a.time.getTime() - b.time.getTime()), complete };
  } finally {
    await consumer.disconnect();
  }
}
