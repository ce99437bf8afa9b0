// The stack's command line: `npm run infra:up [-- --brokers 1|3] | infra:down | infra:status`.
// Progress goes to stderr with elapsed seconds; the summary of where things listen goes to stdout.
import { readInfraEnv } from "./env";
import { redact } from "./postgres";
import { downNative, statusNative, stopServices, upNative } from "./stack";

const t0 = Date.now();
const progress = (line: string) =>
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

/** `--brokers N` (or `--brokers=N`): the size of a stack that is not running yet. */
function brokersFlag(args: string[]): number | undefined {
  const i = args.findIndex((a) => a === "--brokers" || a.startsWith("--brokers="));
  if (i < 0) return undefined;
  const arg = args[i] ?? "";
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[i + 1];
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new Error(`--brokers needs a number (1 or 3), not ${JSON.stringify(value)}`);
  return n;
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  const env = readInfraEnv();
  if (env.GRONDSLAG_INFRA !== "native" && command !== "status") {
    progress(
      `GRONDSLAG_INFRA=${env.GRONDSLAG_INFRA}: infra:up/down manage the native stack only; nothing to do.`,
    );
    return 0;
  }
  switch (command) {
    case "up": {
      const brokers = brokersFlag(args);
      const { config, started } = await upNative(progress, env, brokers === undefined ? {} : { brokers });
      progress(started.length > 0 ? `started: ${started.join(", ")}` : "already running; nothing started");
      process.stdout.write(
        [
          "",
          `  kafka     ${config.kafka.version.padEnd(8)} ${config.kafka.brokers.join(",")}  (SASL: PLAIN admin, SCRAM-SHA-256 users${
            config.kafka.brokers.length > 1
              ? `; ${config.kafka.brokers.length} KRaft nodes, replication factor 3, min.insync.replicas 2`
              : ""
          })`,
          `  registry  ${config.registry.version.padEnd(8)} ${config.registry.url}  (HTTP basic: ${config.registry.admin.username} writes, ${config.registry.gateway.username} reads; anonymous refused)`,
          `  postgres  ${"".padEnd(8)} ${redact(config.postgres.url)}  database ${config.postgres.database}`,
          "",
          "  stack config for tools and tests: infra/.state/stack.json   stop it: npm run infra:down",
          "",
        ].join("\n"),
      );
      return 0;
    }
    case "down": {
      // Services first: they hold connections to the broker.
      const services = await stopServices();
      if (services.length > 0) progress(`stopped services: ${services.join(", ")}`);
      const stopped = [...services, ...(await downNative(progress))];
      if (stopped.length === 0) progress("nothing of ours was running");
      return 0;
    }
    case "status": {
      const lines = await statusNative(env);
      for (const l of lines)
        process.stdout.write(`  ${l.part.padEnd(22)} ${l.state.padEnd(11)} ${l.detail}\n`);
      return lines.some((l) => l.state !== "running") ? 3 : 0;
    }
    default:
      process.stderr.write("usage: cli.ts up [--brokers 1|3] | down | status\n");
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof Error && err.cause instanceof Error) progress(`  cause: ${err.cause.message}`);
    process.exit(1);
  },
);
