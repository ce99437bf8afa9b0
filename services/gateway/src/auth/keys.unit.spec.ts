import {
  buildCatalogue,
  lintSource,
  overlaySources,
  parseSource,
  readCatalogueSource,
  formatProblem,
  type Catalogue,
} from "@grondslag/contracts";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../errors";
import { signToken } from "./dev-keys";
import { catalogueKeyStore, staticKeyStore, withDevelopmentKeys } from "./keys";
import { createTokenVerifier } from "./verify";

const T0 = new Date("2026-06-01T12:00:00Z");
const real = readCatalogueSource();

async function pair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), alg: "EdDSA", kid } as JWK,
    publicJwk: { ...(await exportJWK(publicKey)), alg: "EdDSA", kid } as JWK,
  };
}

/** The real contracts, with uwv's registered keys replaced by `keys` (JWKs plus optional validity). */
function withUwvKeys(keys: object[]): Catalogue {
  const parties = real.files.get("parties.yaml")?.text ?? "";
  const text = parties.replace(/(- id: uwv\n(?: {2}.*\n)*? {2}keys: )\[\]/, `$1${JSON.stringify(keys)}`);
  if (keys.length > 0) expect(text).not.toBe(parties);
  const source = overlaySources(real, { files: new Map([["parties.yaml", { text, shown: "p.yaml" }]]) });
  expect(lintSource(source).problems.map(formatProblem)).toEqual([]);
  return buildCatalogue(parseSource(source).draft);
}

const claims = {
  party: "uwv",
  issuer: "grondslag-dev",
  audience: "grondslag-gateway",
  ttlSeconds: 900,
  now: T0,
};

async function outcome(v: ReturnType<typeof createTokenVerifier>, token: string): Promise<string> {
  return v.verify(token).then(
    (c) => `ok ${c.party}`,
    (e: unknown) => (e instanceof GatewayError ? e.detail : String(e)),
  );
}

describe("keys registered in the contracts", () => {
  let one: Awaited<ReturnType<typeof pair>>;
  let two: Awaited<ReturnType<typeof pair>>;
  beforeAll(async () => {
    one = await pair("uwv-2026-1");
    two = await pair("uwv-2026-2");
  });

  it("verify a token of the registered key; a key removed from the parties file stops verifying once the contracts reload, cached tokens included", async () => {
    let current = withUwvKeys([one.publicJwk, two.publicJwk]);
    const v = createTokenVerifier({
      keyStore: catalogueKeyStore(
        () => current,
        () => T0,
      ),
      audience: "grondslag-gateway",
      issuers: ["grondslag-dev"],
      now: () => T0,
    });
    const byOne = await signToken(one.privateJwk, claims);
    const byTwo = await signToken(two.privateJwk, claims);
    expect(await outcome(v, byOne)).toBe("ok uwv");
    expect(await outcome(v, byTwo)).toBe("ok uwv");
    current = withUwvKeys([two.publicJwk]); // key one revoked
    expect(await outcome(v, byOne)).toBe(
      "no key registered for party uwv matches the token's kid and algorithm",
    );
    expect(await outcome(v, byTwo)).toBe("ok uwv");
    current = withUwvKeys([]);
    expect(await outcome(v, byTwo)).toBe("no public keys are registered for party uwv");
  });

  it("count only inside their validity window, and reach jose without the window members", async () => {
    const current = withUwvKeys([
      { ...one.publicJwk, validTo: "2026-06-01" },
      { ...two.publicJwk, validFrom: "2026-06-01" },
    ]);
    const store = catalogueKeyStore(
      () => current,
      () => T0,
    );
    const keys = await store.keysFor("uwv");
    expect(keys.map((k) => k.kid)).toEqual(["uwv-2026-2"]);
    expect(Object.keys(keys[0] ?? {}).sort()).toEqual(["alg", "crv", "kid", "kty", "x"]);
    const earlier = catalogueKeyStore(
      () => current,
      () => new Date("2026-05-01T00:00:00Z"),
    );
    expect((await earlier.keysFor("uwv")).map((k) => k.kid)).toEqual(["uwv-2026-1"]);
    expect(await store.keysFor("constructor")).toEqual([]);
  });

  it("leave development keys only to parties that registered none", async () => {
    const current = withUwvKeys([one.publicJwk]);
    const dev = staticKeyStore([
      { party: "uwv", keys: [two.publicJwk] },
      { party: "nla", keys: [two.publicJwk] },
    ]);
    const store = withDevelopmentKeys(
      catalogueKeyStore(
        () => current,
        () => T0,
      ),
      dev,
    );
    expect((await store.keysFor("uwv")).map((k) => k.kid)).toEqual(["uwv-2026-1"]);
    expect((await store.keysFor("nla")).map((k) => k.kid)).toEqual(["uwv-2026-2"]);
    expect(store.generation?.()).toBe(current);
  });
});

describe("the parties file refuses", () => {
  it("a private key, a key without kid or alg, a wrong curve or a short coordinate, and a duplicate kid", async () => {
    const { privateJwk, publicJwk } = await pair("k1");
    const parties = real.files.get("parties.yaml")?.text ?? "";
    const lint = (keys: object[]) => {
      const text = parties.replace(/(- id: uwv\n(?: {2}.*\n)*? {2}keys: )\[\]/, `$1${JSON.stringify(keys)}`);
      return lintSource(
        overlaySources(real, { files: new Map([["parties.yaml", { text, shown: "p.yaml" }]]) }),
      ).problems.map(formatProblem);
    };
    expect(lint([privateJwk])).toEqual([
      "p.yaml:[2].keys[0].d: private key material must never be committed",
    ]);
    const { kid: _kid, alg: _alg, ...bare } = publicJwk;
    expect(lint([bare])).toEqual([
      "p.yaml:[2].keys[0].kid: is required",
      "p.yaml:[2].keys[0].alg: must be EdDSA (Ed25519) or ES256 (P-256)",
    ]);
    expect(lint([{ ...publicJwk, alg: "ES256" }])).toEqual([
      "p.yaml:[2].keys[0].kty: an ES256 key has kty EC",
    ]);
    expect(lint([{ ...publicJwk, crv: "Ed448", x: "abc" }])).toEqual([
      "p.yaml:[2].keys[0].crv: an EdDSA key has crv Ed25519",
      "p.yaml:[2].keys[0].x: must be 32 bytes in base64url",
    ]);
    expect(lint([publicJwk, publicJwk])).toEqual(["p.yaml:[2].keys[1].kid: kid k1 is used twice"]);
    expect(lint([{ ...publicJwk, x5u: "https://example.org/k" }])).toEqual([
      "p.yaml:[2].keys[0].x5u: unknown JWK member x5u",
    ]);
  });
});
