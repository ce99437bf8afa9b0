import csr from "@kafkajs/confluent-schema-registry";
import { RefusalError, refusalFromProblem } from "./errors";
import { avroOptions } from "./codec";
import { resolveToken, type TokenSource } from "./token";

/** Where the party reads schemas: the gateway's read-only registry window, with its bearer token. */
export interface RegistryWindowOptions {
  /** The gateway's base URL (the window is `<baseUrl>/v1/registry`). */
  baseUrl: string;
  token: TokenSource;
  /** How long a subject's latest schema id is reused before it is asked again. Default 60 s. */
  latestTtlMs?: number;
}

type Middleware = NonNullable<ConstructorParameters<typeof csr.SchemaRegistry>[0]["middlewares"]>[number];

/**
 * The registry's standard (de)serializer pointed at the gateway's window. Each request carries a current token
 * from the source (a middleware, because a token expires and the library's basic auth is fixed at construction).
 * Schemas by id are cached for good (ids are immutable); a subject's latest id for `latestTtlMs`.
 */
export class RegistryWindow {
  private readonly registry: InstanceType<typeof csr.SchemaRegistry>;
  private readonly latest = new Map<string, { id: Promise<number>; at: number }>();
  private readonly ttl: number;

  constructor(opts: RegistryWindowOptions) {
    this.ttl = opts.latestTtlMs ?? 60_000;
    const bearer: Middleware = () => ({
      async prepareRequest(next) {
        const [request, token] = await Promise.all([next(), resolveToken(opts.token)]);
        return request.enhance({ headers: { authorization: `Bearer ${token}` } });
      },
    });
    this.registry = new csr.SchemaRegistry(
      {
        host: `${opts.baseUrl.replace(/\/+$/, "")}/v1/registry`,
        middlewares: [bearer],
        retry: { retries: 2 },
      },
      { [csr.SchemaType.AVRO]: avroOptions },
    );
  }

  /** The registry id of `subject`'s latest version. */
  latestId(subject: string): Promise<number> {
    const hit = this.latest.get(subject);
    if (hit && Date.now() - hit.at < this.ttl) return hit.id;
    const id = this.registry.getLatestSchemaId(subject).catch((err: unknown) => {
      this.latest.delete(subject);
      throw windowRefusal(err, subject);
    });
    this.latest.set(subject, { id, at: Date.now() });
    return id;
  }

  /** The value in the registry's framing; a value that does not fit is refused here (SCHEMA_VIOLATION). */
  async encode(schemaId: number, value: unknown): Promise<Buffer> {
    try {
      return await this.registry.encode(schemaId, value);
    } catch (err) {
      // The library's ConfluentSchemaRegistryValidationError (not exported): the paths that did not fit.
      const paths = (err as { paths?: unknown }).paths;
      if (Array.isArray(paths)) {
        const first: unknown = paths[0];
        const field = Array.isArray(first) ? first.join(".") : undefined;
        throw new RefusalError(
          {
            code: "SCHEMA_VIOLATION",
            detail: `the value does not fit schema ${schemaId}${field ? ` at ${field}` : ""}`,
            fix: "Send the fields in the shape the topic's schema requires.",
            field,
          },
          { cause: err },
        );
      }
      throw windowRefusal(err, `schema ${schemaId}`);
    }
  }

  /** A framed value, decoded with the schema its id names (fetched through the window once). */
  async decode(framed: Buffer): Promise<unknown> {
    try {
      return await this.registry.decode(framed);
    } catch (err) {
      throw windowRefusal(err, "a framed value");
    }
  }
}

/**
 * A request that never got an answer: the registry library's HTTP layer (mappersmith) reports a refused or broken
 * connection as a response with status 400 and the socket error as its text.
 */
const NETWORK_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|socket hang up|Timeout/i;

/** The library's HTTP errors carry only a status: make them refusals with a fix. */
function windowRefusal(err: unknown, what: string): unknown {
  const status = (err as { status?: unknown }).status;
  if (typeof status !== "number") return err;
  if (status === 400 && NETWORK_FAILURE.test((err as Error).message)) {
    // Not the request's fault (it would be INVALID_REQUEST, never retried): the gateway was not reachable, so a
    // Kafka subscriber parked a good delivery as undecodable while a gateway restarted (test/faults,
    // postgres-down). Retriable, so the subscriber tries the record again.
    return new RefusalError(
      {
        code: "UNAVAILABLE",
        detail: `registry window, ${what}: the gateway did not answer (${(err as Error).message})`,
        fix: "Retry: the gateway is unreachable or restarting.",
      },
      { cause: err },
    );
  }
  if (status === 404) {
    return new RefusalError(
      {
        code: "NOT_FOUND",
        detail: `${what} is not in the registry window for this party`,
        fix: "Check that your contracts make you a producer (events.<topic>-value) or consumer (deliver.<you>.<topic>-value) of the topic: GET /v1/registry/subjects lists yours.",
      },
      { cause: err },
    );
  }
  const refusal = refusalFromProblem(status, (err as Error).message);
  return new RefusalError(
    {
      code: refusal.code,
      status,
      detail: `registry window, ${what}: ${(err as Error).message}`,
      fix: refusal.fix,
    },
    { cause: err },
  );
}
