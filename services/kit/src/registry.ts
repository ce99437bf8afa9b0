import { typeForSchema, type AvroRecordSchema } from "@grondslag/schemas";
import type avro from "avsc";
import { GrondslagError } from "@grondslag/wire";

/**
 * Registry ids of the schemas a service writes with, and writer schemas by id for what it reads. Provisioning
 * registers every subject; services only look ids up and cache them (an id never changes meaning). Plain HTTP on
 * the Confluent-compatible API: the client library parses schemas without our logical types.
 */
export class SchemaIds {
  /**
   * By schema object, then subject: a topic's raw schema and each consumer's view are one object each for the life
   * of the process, so the per-event lookup costs a map read, not a serialisation of the schema.
   */
  private readonly bySchema = new WeakMap<object, Map<string, Promise<number>>>();
  private readonly byId = new Map<number, Promise<{ schema: AvroRecordSchema; type: avro.Type }>>();

  private readonly auth: Record<string, string>;

  /**
   * @param url base of the Confluent-compatible API (…/apis/ccompat/v7)
   * @param credential the gateway's registry account (HTTP basic): the registry refuses anonymous callers
   */
  constructor(
    private readonly url: string,
    credential?: { username: string; password: string },
  ) {
    this.auth = credential
      ? {
          authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`,
        }
      : {};
  }

  /** The id of exactly this schema under `subject`; UNAVAILABLE when provisioning has not registered it. */
  idOf(subject: string, schema: AvroRecordSchema): Promise<number> {
    let bySubject = this.bySchema.get(schema);
    if (!bySubject) {
      bySubject = new Map();
      this.bySchema.set(schema, bySubject);
    }
    let id = bySubject.get(subject);
    if (!id) {
      const ids = bySubject;
      id = this.lookup(subject, JSON.stringify(schema));
      id.catch(() => ids.delete(subject));
      ids.set(subject, id);
    }
    return id;
  }

  private async lookup(subject: string, schema: string): Promise<number> {
    const res = await fetch(`${this.url}/subjects/${encodeURIComponent(subject)}`, {
      method: "POST",
      headers: { "content-type": "application/vnd.schemaregistry.v1+json", ...this.auth },
      body: JSON.stringify({ schemaType: "AVRO", schema }),
    }).catch((err: unknown) => {
      throw GrondslagError.of("UNAVAILABLE", "the schema registry is unreachable", {
        cause: err,
        fix: "retry later",
      });
    });
    if (res.status === 200) return ((await res.json()) as { id: number }).id;
    throw GrondslagError.of(
      "UNAVAILABLE",
      `the schema for ${subject} is not registered (registry answered ${res.status})`,
      { fix: "operators: run `npm run contracts:apply`; callers: retry later" },
    );
  }

  /** Whether the registry answers this account (readiness). */
  reachable(): Promise<boolean> {
    return fetch(`${this.url}/subjects`, { headers: this.auth, signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
  }

  /** A writer schema by registry id, parsed with our logical types. */
  writer(id: number): Promise<{ schema: AvroRecordSchema; type: avro.Type }> {
    let w = this.byId.get(id);
    if (!w) {
      w = (async () => {
        const res = await fetch(`${this.url}/schemas/ids/${id}`, { headers: this.auth });
        if (!res.ok) throw new Error(`the registry has no schema ${id} (${res.status})`);
        const schema = JSON.parse(((await res.json()) as { schema: string }).schema) as AvroRecordSchema;
        return { schema, type: typeForSchema(schema) };
      })();
      w.catch(() => this.byId.delete(id));
      this.byId.set(id, w);
    }
    return w;
  }
}
