import kafkajs from "kafkajs";
import type { StackConfig } from "./config";

export type KafkaClient = InstanceType<typeof kafkajs.Kafka>;

/**
 * A kafkajs client on the stack: as the super user (provisioning, tools, tests), or as a party or service when its
 * SCRAM credentials are given. Errors surface as exceptions, not log lines. Services build their own clients with
 * a logger (`createKafka` in services/kit/src/kafka.ts); everything else builds them here.
 */
export function kafkaClient(
  kafka: Pick<StackConfig["kafka"], "brokers" | "admin">,
  user?: { name: string; password: string },
  opts: { clientId?: string; retries?: number; connectionTimeout?: number } = {},
): KafkaClient {
  return new kafkajs.Kafka({
    clientId: opts.clientId ?? user?.name ?? "grondslag-admin",
    brokers: kafka.brokers,
    // A copy of the admin credentials: kafkajs attaches functions to the sasl object it is given.
    sasl: user
      ? { mechanism: "scram-sha-256", username: user.name, password: user.password }
      : { ...kafka.admin },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: opts.retries ?? 2, initialRetryTime: 100 },
    ...(opts.connectionTimeout === undefined ? {} : { connectionTimeout: opts.connectionTimeout }),
  });
}
