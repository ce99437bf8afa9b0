import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isWithin, type Catalogue } from "@grondslag/contracts";
import type { JWK } from "jose";

/** A party id: lower-case, dotted (`uwv`, `gemeente.horst-aan-de-maas`, `uitlener.12345678`). */
export const TOKEN_PARTY_ID = /^[a-z]+(\.[a-z0-9-]+)*$/;

/** Where a service that verifies parties' tokens (the gateway, the audit service) finds each party's public keys. */
export interface KeyStore {
  /** The party's public signing keys; empty when the party is unknown or has none. */
  keysFor(party: string): Promise<readonly JWK[]>;
  /**
   * Changes whenever the keys may have changed (a reloaded catalogue). The verifier forgets the tokens it verified
   * when it does, so a revoked key stops working at once, not when the verified-token cache expires.
   */
  generation?(): unknown;
}

/**
 * Only public signing keys of the two accepted kinds pass; a private key that slipped into a registry is refused
 * rather than used, so a misconfiguration never widens what verifies.
 */
export function usablePublicKeys(keys: readonly JWK[]): JWK[] {
  return keys.filter(
    (k) =>
      k.d === undefined &&
      (k.use === undefined || k.use === "sig") &&
      ((k.kty === "OKP" && k.crv === "Ed25519") || (k.kty === "EC" && k.crv === "P-256")),
  );
}

/** Keys from a list (specs, and tools that hold a fixed set). */
export function staticKeyStore(entries: Iterable<{ party: string; keys: readonly JWK[] }>): KeyStore {
  const byParty = new Map<string, JWK[]>();
  for (const { party, keys } of entries) {
    byParty.set(party, [...(byParty.get(party) ?? []), ...usablePublicKeys(keys)]);
  }
  return {
    keysFor: (party) => Promise.resolve(byParty.get(party) ?? []),
  };
}

/**
 * The keys registered in the contracts (`parties.yaml`) that are valid now, read from the catalogue in force on
 * every lookup: the gateway reloads the contracts when they change, so adding, rolling over or removing a key takes
 * effect without a restart. The window members (`validFrom`, `validTo`) are ours, not JWK members: stripped here.
 */
export function catalogueKeyStore(current: () => Catalogue, now: () => Date = () => new Date()): KeyStore {
  return {
    keysFor(party) {
      const p = current().parties[party];
      if (!p) return Promise.resolve([]);
      const at = now();
      const live = p.keys
        .filter((k) => isWithin(k, at))
        .map(({ validFrom: _from, validTo: _to, ...jwk }) => jwk as JWK);
      return Promise.resolve(usablePublicKeys(live));
    },
    generation: current,
  };
}

/**
 * Development keys beside the registered ones, for parties that have no registered key only: once a party
 * registers a real key, a development key (which anyone with the dev-keys directory holds) no longer speaks for it.
 */
export function withDevelopmentKeys(registered: KeyStore, dev: KeyStore): KeyStore {
  return {
    async keysFor(party) {
      const real = await registered.keysFor(party);
      return real.length > 0 ? real : dev.keysFor(party);
    },
    ...(registered.generation ? { generation: registered.generation.bind(registered) } : {}),
  };
}

/**
 * Development keys: `<dir>/<party>.public.jwk.json` (one JWK, or a JWKS `{ "keys": [...] }`), as the token CLI
 * writes them. Read on every lookup so a key generated while the gateway runs is found at once; the verified-token
 * cache keeps this off the hot path.
 */
export function directoryKeyStore(dir: string, fileOf: (party: string) => string): KeyStore {
  return {
    async keysFor(party) {
      if (!TOKEN_PARTY_ID.test(party)) return [];
      let text: string;
      try {
        text = await readFile(join(dir, fileOf(party)), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
      }
      const parsed = JSON.parse(text) as JWK | { keys: JWK[] };
      return usablePublicKeys("keys" in parsed && Array.isArray(parsed.keys) ? parsed.keys : [parsed as JWK]);
    },
  };
}
