import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { tokenSigner } from "./token";

async function edKeys() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), alg: "EdDSA", kid: "k1" }, publicKey };
}

describe("tokenSigner", () => {
  it("signs a token the gateway's rules accept, and reuses it until shortly before expiry", async () => {
    const { privateJwk, publicKey } = await edKeys();
    let now = new Date("2026-03-01T10:00:00.400Z");
    const token = tokenSigner({
      party: "uwv",
      privateJwk,
      issuer: "grondslag-dev",
      ttlSeconds: 300,
      now: () => now,
    });
    const first = await token();
    const { payload } = await jwtVerify(first, publicKey, {
      issuer: "grondslag-dev",
      audience: "grondslag-gateway",
      currentDate: now,
    });
    expect(payload).toMatchObject({ sub: "uwv", exp: (payload.iat ?? 0) + 300 });
    expect(payload.jti).toEqual(expect.any(String));
    expect(decodeProtectedHeader(first)).toMatchObject({ alg: "EdDSA", kid: "k1", typ: "JWT" });

    now = new Date("2026-03-01T10:04:29.000Z"); // 30 s before expiry (10:05:00): still the same token
    expect(await token()).toBe(first);
    now = new Date("2026-03-01T10:04:30.000Z");
    const second = await token();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).iat).toBe(Date.parse("2026-03-01T10:04:30Z") / 1000);
  });

  it("concurrent callers share one signing; a short lifetime refreshes at a tenth of it", async () => {
    const { privateJwk } = await edKeys();
    let now = new Date("2026-03-01T10:00:00Z");
    const token = tokenSigner({ party: "nla", privateJwk, issuer: "i", ttlSeconds: 60, now: () => now });
    const [a, b] = await Promise.all([token(), token()]);
    expect(a).toBe(b);
    now = new Date("2026-03-01T10:00:53.999Z");
    expect(await token()).toBe(a);
    now = new Date("2026-03-01T10:00:54Z");
    expect(await token()).not.toBe(a);
  });

  it("refuses a lifetime the gateway would refuse", () => {
    expect(() => tokenSigner({ party: "uwv", privateJwk: {}, issuer: "i", ttlSeconds: 7200 })).toThrow(
      /ttlSeconds/,
    );
  });
});
