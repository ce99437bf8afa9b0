import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultDataDir } from "@grondslag/contracts";
import { waitFor } from "@grondslag/infra";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CatalogueHolder } from "../core/catalogue";
import { GatewayError } from "../errors";
import { signToken } from "./dev-keys";
import { catalogueKeyStore } from "./keys";
import { createTokenVerifier } from "./verify";

describe("a key removed from contracts/data/parties.yaml stops verifying without a restart", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it("as main.ts wires it: the key store reads the catalogue the watcher reloads", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-contracts-"));
    dirs.push(dir);
    fs.cpSync(defaultDataDir, dir, { recursive: true });
    const partiesFile = path.join(dir, "parties.yaml");
    const original = fs.readFileSync(partiesFile, "utf8");
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: "uwv-es-1", alg: "ES256" };
    const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid: "uwv-es-1", alg: "ES256" };
    const withKey = original.replace(
      /(- id: uwv\n(?: {2}.*\n)*? {2}keys: )\[\]/,
      `$1[${JSON.stringify(publicJwk)}]`,
    );
    expect(withKey).not.toBe(original);
    fs.writeFileSync(partiesFile, withKey);

    const holder = new CatalogueHolder(dir, pino({ level: "silent" }));
    holder.watch();
    try {
      const verifier = createTokenVerifier({
        keyStore: catalogueKeyStore(holder.current),
        audience: "grondslag-gateway",
        issuers: ["grondslag-dev"],
        now: () => new Date(),
      });
      const token = await signToken(privateJwk, {
        party: "uwv",
        issuer: "grondslag-dev",
        audience: "grondslag-gateway",
        ttlSeconds: 600,
        now: new Date(),
      });
      await expect(verifier.verify(token)).resolves.toMatchObject({ party: "uwv" });

      fs.writeFileSync(partiesFile, original);
      const refused = await waitFor(
        "the revoked key to stop verifying",
        () =>
          verifier.verify(token).then(
            () => undefined,
            (e: unknown) => e,
          ),
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(refused).toBeInstanceOf(GatewayError);
      expect((refused as GatewayError).detail).toBe("no public keys are registered for party uwv");
    } finally {
      holder.close();
    }
  });
});
