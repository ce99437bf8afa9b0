// `npm run contracts:apply [-- --dry-run]`: provisions Kafka and the registry from the contracts alone.
// The plan goes to stdout as a diff (+ add, - remove, ~ change); progress and errors to stderr.
import { acquireStack, CREDENTIALS_FILE } from "@grondslag/infra";
import { loadCatalogue } from "@grondslag/contracts";
import { applyContracts } from "./apply";

const dryRun = process.argv.includes("--dry-run");
const t0 = Date.now();
const progress = (line: string) =>
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

async function main(): Promise<number> {
  const catalogue = loadCatalogue();
  // Brings the native stack up if it is down, and leaves it running: provisioning is for a stack that stays up.
  const stack = await acquireStack(progress);
  const result = await applyContracts(catalogue, stack.config, {
    dryRun,
    credentialsFile: CREDENTIALS_FILE,
    progress: (line) => process.stdout.write(`${line}\n`),
  });
  const { desired } = result;
  process.stdout.write(
    `\n${result.changes.length === 0 ? "no changes" : `${result.changes.length} change(s)${dryRun ? " planned (dry run)" : " applied"}`}: ` +
      `${desired.topics.length} topics, ${desired.acls.length} ACLs, ${desired.users.length} users, ${desired.quotas.length} quotas, ${desired.subjects.length} subjects derived\n`,
  );
  const r = result.replication;
  process.stdout.write(
    `  replication: ${r.replicationFactor} per topic, min.insync.replicas=${r.minInsync} (a cluster of ${r.brokers} broker${r.brokers === 1 ? "" : "s"})\n`,
  );
  for (const t of result.orphanTopics)
    process.stdout.write(`  orphan topic kept (no contract names it): ${t}\n`);
  if (result.drift.length > 0) {
    process.stdout.write(
      `  ${result.drift.length} topic(s) stored fewer times than the cluster allows (not changed: that moves data):\n`,
    );
    for (const d of result.drift)
      process.stdout.write(`    ! ${d.topic}: ${d.actual} of ${d.desired} replicas\n`);
    process.stdout.write(`  fix: ${result.drift[0]?.fix ?? ""}\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
