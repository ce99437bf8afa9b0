import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directoryKeyStore } from "./keys";
import { createTokenVerifier } from "./verify";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("./token-cli.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../../node_modules/.bin/tsx", import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "grondslag-dev-keys-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npm run token", () => {
  it("generates the party's key pair once, prints only a token, and the gateway accepts it", async () => {
    const first = await run(tsx, [cli, "--party", "gemeente.schiedam", "--ttl", "10m", "--dir", dir]);
    expect(first.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(first.stderr).toMatch(/generated a dev key pair for gemeente\.schiedam/);
    expect((await stat(join(dir, "gemeente.schiedam.private.jwk.json"))).mode & 0o777).toBe(0o600);

    const second = await run(tsx, [cli, "--party", "gemeente.schiedam", "--dir", dir]);
    expect(second.stderr).toBe("");

    const verifier = createTokenVerifier({
      keyStore: directoryKeyStore(dir),
      audience: "grondslag-gateway",
      issuers: ["grondslag-dev"],
      now: () => new Date(),
    });
    for (const out of [first.stdout, second.stdout]) {
      await expect(verifier.verify(out.trim())).resolves.toMatchObject({ party: "gemeente.schiedam" });
    }
  });

  it("refuses a missing party, a party id that is not one, and a lifetime over an hour", async () => {
    for (const args of [[], ["--party", "../etc"], ["--party", "uwv", "--ttl", "2h"]]) {
      await expect(run(tsx, [cli, ...args, "--dir", dir])).rejects.toMatchObject({ code: 2, stdout: "" });
    }
  });
});
