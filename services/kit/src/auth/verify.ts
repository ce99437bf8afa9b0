import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { GrondslagError } from "@grondslag/wire";
import { TOKEN_PARTY_ID, type KeyStore } from "./keys";

/** An authenticated caller: the JWT subject, which is also the party id and the Kafka principal. */
export interface Caller {
  party: string;
  /** The token's `jti`, for the audit trail; never the token itself. */
  tokenId: string | undefined;
}

/** Asymmetric only: a party signs with its private key, the verifying service holds public keys alone. */
export const ACCEPTED_ALGORITHMS = ["EdDSA", "ES256"] as const;

export interface TokenVerifierOptions {
  keyStore: KeyStore;
  /** The `aud` every token must carry (`grondslag-gateway`). */
  audience: string;
  /** Trusted `iss` values (`grondslag-dev` locally). */
  issuers: readonly string[];
  /** Longest accepted `exp - iat`, and oldest accepted `iat`. Default 3600. */
  maxLifetimeSeconds?: number;
  /** Allowed clock skew, at most 30. Default 30. */
  clockToleranceSeconds?: number;
  /** Verified tokens kept in memory. Default 10 000. */
  cacheSize?: number;
  /** How long a verified token is trusted without verifying again (never past its `exp`). Default 60. */
  cacheSeconds?: number;
  now: () => Date;
  /**
   * The error a refusal throws (default: GrondslagError UNAUTHENTICATED with `fix`); the gateway throws its own
   * GatewayError, which its edge audits and maps like every other refusal.
   */
  refuse?: (detail: string, fix: string, cause: unknown) => Error;
}

export interface TokenVerifier {
  /** The caller a bearer token names; throws (UNAUTHENTICATED) with what is wrong and how to fix it. */
  verify(token: string): Promise<Caller>;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const FIX =
  "Send `Authorization: Bearer <token>` with a JWT signed by your party's registered key (EdDSA or ES256), " +
  "carrying sub (your party id), iss, aud, iat, exp (at most one hour after iat) and jti.";

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const refuse = (detail: string, cause?: unknown): Error =>
    options.refuse
      ? options.refuse(detail, FIX, cause)
      : GrondslagError.of("UNAUTHENTICATED", detail, { cause, fix: FIX });
  const maxLifetime = options.maxLifetimeSeconds ?? 3600;
  const tolerance = Math.min(options.clockToleranceSeconds ?? 30, 30);
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheMs = (options.cacheSeconds ?? 60) * 1000;
  // Insertion-ordered: the first entry is the oldest, evicted first. Keyed by the token itself, which is what was
  // verified; entries expire no later than the token.
  const cache = new Map<string, { caller: Caller; until: number }>();

  async function verifyUncached(token: string): Promise<{ caller: Caller; exp: number }> {
    // A compact JWS is three base64url segments without padding (RFC 7515 §2): jose would also take `==` after
    // the signature, so one token would have many spellings.
    if (!COMPACT_JWS.test(token)) throw refuse("the token is not a well-formed JWT");
    let alg: unknown;
    let sub: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      sub = decodeJwt(token).sub;
    } catch (err) {
      throw refuse("the token is not a well-formed JWT", err);
    }
    if (typeof alg !== "string" || !(ACCEPTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw refuse(`algorithm ${String(alg)} is not accepted; sign with EdDSA or ES256`);
    }
    if (typeof sub !== "string" || !TOKEN_PARTY_ID.test(sub)) {
      throw refuse("the token's sub is not a party id");
    }
    const keys = await options.keyStore.keysFor(sub);
    if (keys.length === 0) throw refuse(`no public keys are registered for party ${sub}`);

    let payload;
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...keys] }), {
        algorithms: [...ACCEPTED_ALGORITHMS],
        audience: options.audience,
        issuer: [...options.issuers],
        requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
        maxTokenAge: maxLifetime,
        clockTolerance: tolerance,
        currentDate: options.now(),
      }));
    } catch (err) {
      throw refuse(describe(err, sub, options.audience), err);
    }
    const { exp, iat, jti } = payload;
    if (exp === undefined || iat === undefined || typeof jti !== "string" || jti === "") {
      throw refuse("the token lacks exp, iat or jti");
    }
    if (exp - iat > maxLifetime) throw refuse(`the token is valid for longer than ${maxLifetime} s`);
    return { caller: { party: sub, tokenId: jti }, exp };
  }

  let generation = options.keyStore.generation?.();
  return {
    async verify(token) {
      if (token.length > 8192) throw refuse("the token is too long");
      const current = options.keyStore.generation?.();
      if (current !== generation) {
        // The keys changed (a reloaded catalogue): what was verified against the old ones is verified again.
        cache.clear();
        generation = current;
      }
      const nowMs = options.now().getTime();
      const hit = cache.get(token);
      if (hit !== undefined) {
        if (hit.until > nowMs) return hit.caller;
        cache.delete(token);
      }
      const { caller, exp } = await verifyUncached(token);
      if (cacheSize > 0) {
        while (cache.size >= cacheSize) {
          const oldest = cache.keys().next();
          if (oldest.done === true) break;
          cache.delete(oldest.value);
        }
        cache.set(token, { caller, until: Math.min(exp * 1000, nowMs + cacheMs) });
      }
      return caller;
    },
  };
}

function describe(err: unknown, party: string, audience: string): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "aud":
        return `the token's aud is not ${audience}`;
      case "iss":
        return "the token's issuer is not trusted";
      case "iat":
        return "the token's iat is missing, in the future or too old";
      default:
        return `the token's ${err.claim} claim is missing or invalid`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return "the token's algorithm is not accepted; sign with EdDSA or ES256";
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return `no key registered for party ${party} matches the token's kid and algorithm`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return `the signature does not verify against the keys registered for party ${party}`;
  }
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid)
    return "the token is not a well-formed JWT";
  return "the token could not be verified";
}
