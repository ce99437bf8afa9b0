// The HTTP load generator of `npm run bench`: autocannon in a process of its own (never the gateway's), so the
// figures measure the gateway and not a client sharing its event loop. Called by bench.ts with the name of one JSON
// file (a LoadSpec); prints one JSON line (a LoadResult) on stdout.
import fs from "node:fs";
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  /** Every `__KEY__` in the body or the headers becomes an id unique to this run (idempotency keys). */
  body?: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second over all connections (a constant rate); unset: as fast as the server answers. */
  overallRate?: number;
  /** The status every response must have; others are counted as errors. */
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  /** Completed requests per second, over the whole run. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  unexpected: number;
  durationSeconds: number;
}

function run(spec: LoadSpec): Promise<LoadResult> {
  const prefix = `${process.pid.toString(36)}-${Date.now().toString(36)}`;
  let n = 0;
  const fill = (s: string) => s.replace(/__KEY__/g, () => `${prefix}-${n++}`);
  const hasKeys =
    (spec.body ?? "").includes("__KEY__") || JSON.stringify(spec.headers ?? {}).includes("__KEY__");
  let unexpected = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
        requests: [
          {
            method: spec.method,
            headers: spec.headers ?? {},
            ...(spec.body !== undefined ? { body: spec.body } : {}),
            ...(hasKeys
              ? {
                  setupRequest: (req: { body?: string; headers?: Record<string, string> }) => ({
                    ...req,
                    ...(spec.body !== undefined ? { body: fill(spec.body) } : {}),
                    headers: Object.fromEntries(
                      Object.entries(spec.headers ?? {}).map(([k, v]) => [k, fill(v)]),
                    ),
                  }),
                }
              : {}),
          },
        ],
      },
      (err: Error | null, result: autocannon.Result) => {
        if (err) return reject(err);
        resolve({
          requests: result.requests.total,
          rps: result.requests.total / (result.duration || spec.durationSeconds),
          latencyMs: {
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          },
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          unexpected,
          durationSeconds: result.duration,
        });
      },
    );
    instance.on("response", (_client: unknown, status: number) => {
      if (status !== spec.expectStatus) unexpected++;
    });
  });
}

const spec = JSON.parse(fs.readFileSync(process.argv[2] ?? "", "utf8")) as LoadSpec;
run(spec).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
