// `npm run agency:replay -- <party or service>`: replays the dead letters of an agency service that `npm start`
// runs, once their cause is fixed (POST /v1/dead-letters/replay on its desk), and prints what the replay did.
import { AGENCIES } from "./agencies";
import { deskClient, deskTokenOf } from "./run-support";

const which = process.argv[2];
const matches = AGENCIES.filter((a) => a.party === which || a.service === which);
if (!which || matches.length === 0) {
  process.stderr.write(
    `usage: npm run agency:replay -- <party or service>\n  one of: ${AGENCIES.map((a) => a.party).join(", ")}\n`,
  );
  process.exit(2);
}
const desk = deskClient(deskTokenOf(), { base: "http://127.0.0.1:8088", keysDir: "" });
let failed = 0;
for (const a of matches) {
  const before = await desk.call(a.party, "GET", "/v1/dead-letters").catch((err: unknown) => ({
    status: 0,
    body: {
      detail: `${a.party} does not answer on :${a.port} (${(err as Error).message}): is npm start running?`,
    },
  }));
  if (before.status !== 200) {
    process.stderr.write(`${a.party}: ${JSON.stringify(before.body)}\n`);
    failed++;
    continue;
  }
  const waiting = (before.body as { deadLetters: { replayedAt: string | null }[] }).deadLetters.filter(
    (d) => d.replayedAt === null,
  ).length;
  process.stdout.write(`${a.party}: ${waiting} dead letter(s) not replayed yet; replaying …\n`);
  const r = await desk.call(a.party, "POST", "/v1/dead-letters/replay");
  if (r.status !== 200) {
    process.stderr.write(`${a.party}: replay failed: ${r.status} ${JSON.stringify(r.body)}\n`);
    failed++;
    continue;
  }
  const rep = r.body as { read: number; handled: number; duplicate: number; dead: number };
  process.stdout.write(
    `${a.party}: read ${rep.read}, handled ${rep.handled}, already handled ${rep.duplicate}, parked again ${rep.dead}\n`,
  );
}
process.exit(failed === 0 ? 0 : 1);
