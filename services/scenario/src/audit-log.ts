import { kafkaClient, type StackConfig } from "@grondslag/infra";

/** The audit record fields the report reads (the gateway's full shape is in its core/audit.ts). */
export interface AuditEntry {
  id: string;
  time: string;
  action: "COLLECT" | "DISCLOSE" | "REJECT";
  topic: string;
  eventId: string;
  producer: string;
  recipient: string | null;
  grondslag: string | null;
  purpose: string | null;
  fields: string[];
  reasonCode: string | null;
  channel: string;
  traceId: string;
  subjects: { type: string; pseudonym: string }[];
}

/**
 * Reads `audit.log` (as the super user: this is the operator's view) until `done` holds for the records of this
 * run's trace, or the deadline passes. Returns them, deduplicated by record id.
 */
export async function readAudit(
  stack: StackConfig,
  traceId: string,
  done: (records: AuditEntry[]) => boolean,
  timeoutMs = 60_000,
): Promise<{ records: AuditEntry[]; complete: boolean }> {
  const kafka = kafkaClient(stack.kafka, undefined, { clientId: "grondslag-scenario" });
  const consumer = kafka.consumer({ groupId: `grondslag.scenario.${traceId}` });
  const byId = new Map<string, AuditEntry>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: ["audit.log"], fromBeginning: true });
    const complete = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const r = JSON.parse(message.value?.toString() ?? "{}") as AuditEntry;
            if (r.traceId !== traceId) return;
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
    return { records: [...byId.values()].sort((a, b) => a.time.localeCompare(b.time)), complete };
  } finally {
    await consumer.disconnect();
  }
}
