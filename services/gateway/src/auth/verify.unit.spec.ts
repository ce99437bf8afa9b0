import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../errors";
import { signToken } from "./dev-keys";
import { staticKeyStore, type KeyStore } from "./keys";
import { createTokenVerifier } from "./verify";

const T0 = new Date("2026-03-02T08:00:00Z");
const iat = Math.floor(T0.getTime() / 1000);

let edPrivate: JWK;
let esPrivate: JWK;
let otherEdPrivate: JWK;
let keyStore: KeyStore;

async function pair(alg: "EdDSA" | "ES256", kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), alg, kid },
    publicJwk: { ...(await exportJWK(publicKey)), alg, kid, use: "sig" },
  };
}

beforeAll(async () => {
  const ed = await pair("EdDSA", "uwv-1");
  const es = await pair("ES256", "nla-1");
  // Same kid as uwv's key: a forger who knows the kid still cannot sign.
  otherEdPrivate = (await pair("EdDSA", "uwv-1")).privateJwk;
  edPrivate = ed.privateJwk;
  esPrivate = es.privateJwk;
  keyStore = staticKeyStore([
    { party: "uwv", keys: [ed.publicJwk] },
    { party: "nla", keys: [es.publicJwk] },
  ]);
});

function verifier(now = () => T0, store: KeyStore = keyStore) {
  return createTokenVerifier({
    keyStore: store,
    audience: "grondslag-gateway",
    issuers: ["grondslag-dev"],
    now,
  });
}

const claims = {
  party: "uwv",
  issuer: "grondslag-dev",
  audience: "grondslag-gateway",
  ttlSeconds: 900,
  now: T0,
};

async function refusal(token: string, v = verifier()): Promise<GatewayError> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const g = err as GatewayError;
  expect(g.code).toBe("UNAUTHENTICATED");
  expect(g.status).toBe(401);
  return g;
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("token verification", () => {
  it("accepts a valid EdDSA token and names the party and token id", async () => {
    const caller = await verifier().verify(await signToken(edPrivate, claims));
    expect(caller.party).toBe("uwv");
    expect(caller.tokenId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts a valid ES256 token", async () => {
    const caller = await verifier().verify(await signToken(esPrivate, { ...claims, party: "nla" }));
    expect(caller.party).toBe("nla");
  });

  it("refuses a forged signature (another key, same kid)", async () => {
    const err = await refusal(await signToken(otherEdPrivate, claims));
    expect(err.detail).toMatch(/signature does not verify against the keys registered for party uwv/);
  });

  it("refuses a token signed by one party but claiming to be another", async () => {
    await refusal(await signToken(esPrivate, { ...claims, party: "uwv" }));
  });

  it("refuses an expired token, and accepts one within the 30 s clock tolerance", async () => {
    const token = await signToken(edPrivate, { ...claims, ttlSeconds: 60 });
    const err = await refusal(
      token,
      verifier(() => new Date(T0.getTime() + 91_000)),
    );
    expect(err.detail).toMatch(/expired/);
    await expect(verifier(() => new Date(T0.getTime() + 80_000)).verify(token)).resolves.toMatchObject({
      party: "uwv",
    });
  });

  it("refuses a wrong audience", async () => {
    const err = await refusal(await signToken(edPrivate, { ...claims, audience: "another-api" }));
    expect(err.detail).toMatch(/aud is not grondslag-gateway/);
  });

  it("refuses an untrusted issuer", async () => {
    const err = await refusal(await signToken(edPrivate, { ...claims, issuer: "evil" }));
    expect(err.detail).toMatch(/issuer is not trusted/);
  });

  it("refuses alg none", async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: "grondslag-dev", sub: "uwv", aud: "grondslag-gateway", iat, exp: iat + 60, jti: "x" })}.`;
    const err = await refusal(token);
    expect(err.detail).toMatch(/algorithm none is not accepted/);
  });

  it("refuses HS256, even with the public key's bytes as the secret", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(edPrivate.x));
    const token = await new SignJWT({ jti: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("grondslag-dev")
      .setSubject("uwv")
      .setAudience("grondslag-gateway")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(secret);
    const err = await refusal(token);
    expect(err.detail).toMatch(/algorithm HS256 is not accepted/);
  });

  it("refuses a lifetime over one hour, a missing jti, an unknown party and garbage", async () => {
    expect((await refusal(await signToken(edPrivate, { ...claims, ttlSeconds: 7200 }))).detail).toMatch(
      /longer than 3600/,
    );
    const key = await import("jose").then((j) => j.importJWK(edPrivate, "EdDSA"));
    const noJti = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: "uwv-1" })
      .setIssuer("grondslag-dev")
      .setSubject("uwv")
      .setAudience("grondslag-gateway")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(key);
    expect((await refusal(noJti)).detail).toMatch(/jti/);
    expect((await refusal(await signToken(edPrivate, { ...claims, party: "svb" }))).detail).toMatch(
      /no public keys are registered for party svb/,
    );
    expect((await refusal("not.a.jwt")).detail).toMatch(/not a well-formed JWT/);
  });

  it("caches a verified token, but never past its exp", async () => {
    let lookups = 0;
    const counting: KeyStore = {
      keysFor: (party) => {
        lookups++;
        return keyStore.keysFor(party);
      },
    };
    let now = T0;
    const v = verifier(() => now, counting);
    const token = await signToken(edPrivate, { ...claims, ttlSeconds: 30 });
    await v.verify(token);
    await v.verify(token);
    expect(lookups).toBe(1);
    now = new Date(T0.getTime() + 31_000); // past exp: the cache entry is gone; within tolerance it verifies again
    await v.verify(token);
    expect(lookups).toBe(2);
    now = new Date(T0.getTime() + 61_000);
    await refusal(token, v);
  });
});
