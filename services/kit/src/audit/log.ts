import type { AvroRecordSchema } from "@grondslag/schemas";
import { GrondslagError } from "@grondslag/wire";
import { AUDIT_RECORD_SCHEMA, AUDIT_SUBJECT, auditMessage, type AuditRecord } from "./record";

/**
 * A writer's handle on `audit.log`: it resolves the registry id of `audit.log-value` once, at start, and turns
 * records into messages framed with it. A service that starts before provisioning registered the schema fails
 * to start with the fix (`npm run contracts:apply`), rather than writing records nobody can decode.
 */
export class AuditLog {
  private schemaId: number | undefined;

  constructor(private readonly ids: { idOf(subject: string, schema: AvroRecordSchema): Promise<number> }) {}

  async ready(): Promise<number> {
    this.schemaId = await this.ids.idOf(AUDIT_SUBJECT, AUDIT_RECORD_SCHEMA);
    return this.schemaId;
  }

  /** The record as a message on `audit.log`, keyed by its event (or `key`, for a refusal that concerns none). */
  message(record: AuditRecord, key?: string): { topic: string; message: { key: string; value: Buffer } } {
    if (this.schemaId === undefined) {
      throw GrondslagError.of("UNAVAILABLE", "the audit log's schema id is not resolved yet", {
        fix: "call AuditLog.ready() when the service starts",
      });
    }
    return auditMessage(record, this.schemaId, key);
  }
}
