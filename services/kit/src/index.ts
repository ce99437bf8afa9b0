// The shared kit every Grondslag service stands on. The wire protocol (topic names, headers, framing, trace
// context, refusal codes, the base error) is `@grondslag/wire`'s, re-exported here so a service imports one kit.
// First: kafkajs must find the kit's filter of aborted transactions when it is first loaded (kafkajs-aborted.ts).
import "./kafkajs-aborted";
// And its record encoder, before kafkajs' first produce request (kafkajs-record.ts).
import "./kafkajs-record";
// And its produce request and grouping by partition, before kafkajs loads its producer (kafkajs-produce.ts).
import "./kafkajs-produce";
export * from "@grondslag/wire";
export * from "./audit/index";
export * from "./env";
export * from "./kafka";
export * from "./partitions";
export * from "./registry";
export * from "./service";
export * from "./auth/index";
export { filterAbortedMessages, kafkajsAbortedFilterInForce } from "./kafkajs-aborted";
export { encodeRecord, kafkajsRecordEncoderInForce } from "./kafkajs-record";
export { createPartitioner, crc32c, kafkajsProduceInForce, murmur2 } from "./kafkajs-produce";
