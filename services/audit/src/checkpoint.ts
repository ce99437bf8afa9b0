import { CompactSign, compactVerify, exportJWK, importJWK, type JWK } from "jose";
import type { ChainHead } from "./chain";

/**
 * Signed checkpoints: at intervals the service signs every partition's chain head and count as a compact JWS
 * (EdDSA over Ed25519, or ES256), so a copy of the heads can live outside our database: a party that fetched a
 * checkpoint can later prove the store was changed behind it.
 */
export const CHECKPOINT_TYPE = "grondslag-audit-checkpoint+jws";

export interface CheckpointPayload {
  iss: string;
  /** Seconds since the epoch. */
  iat: number;
  total: number;
  heads: ChainHead[];
}

export interface CheckpointSigner {
  kid: string;
  publicJwk: JWK;
  sign(heads: ChainHead[], now: Date): Promise<{ jws: string; payload: CheckpointPayload }>;
}

function algOf(jwk: JWK): "EdDSA" | "ES256" {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  throw new Error("the checkpoint key must be an Ed25519 (EdDSA) or P-256 (ES256) JWK");
}

export function publicPart(jwk: JWK): JWK {
  const { d: _d, ...pub } = jwk;
  return pub;
}

/** A signer from a private JWK (AUDIT_CHECKPOINT_KEY). */
export async function checkpointSigner(
  privateJwk: JWK,
  issuer = "grondslag.audit",
): Promise<CheckpointSigner> {
  if (privateJwk.d === undefined) throw new Error("AUDIT_CHECKPOINT_KEY must be a private JWK (with d)");
  const alg = algOf(privateJwk);
  const key = await importJWK(privateJwk, alg);
  const kid = privateJwk.kid ?? "audit-checkpoint";
  return {
    kid,
    publicJwk: { ...publicPart(privateJwk), kid, alg, use: "sig" },
    async sign(heads, now) {
      const sorted = [...heads].sort((a, b) => a.partition - b.partition);
      const payload: CheckpointPayload = {
        iss: issuer,
        iat: Math.floor(now.getTime() / 1000),
        total: sorted.reduce((n, h) => n + h.count, 0),
        heads: sorted,
      };
      const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg, kid, typ: CHECKPOINT_TYPE })
        .sign(key);
      return { jws, payload };
    },
  };
}

/** The payload of a checkpoint whose signature verifies against `publicJwk`; throws otherwise. */
export async function verifyCheckpoint(jws: string, publicJwk: JWK): Promise<CheckpointPayload> {
  const alg = algOf(publicJwk);
  const key = await importJWK(publicPart(publicJwk), alg);
  const { payload, protectedHeader } = await compactVerify(jws, key, { algorithms: [alg] });
  if (protectedHeader.typ !== CHECKPOINT_TYPE)
    throw new Error(`not a checkpoint: typ ${protectedHeader.typ}`);
  return JSON.parse(new TextDecoder().decode(payload)) as CheckpointPayload;
}

/** A fresh Ed25519 private JWK, for development and tests. */
export async function generateCheckpointKey(): Promise<JWK> {
  const { generateKeyPair } = await import("jose");
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { ...(await exportJWK(privateKey)), kid: "audit-checkpoint" };
}
