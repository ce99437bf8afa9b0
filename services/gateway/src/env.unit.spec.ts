import { describe, expect, it } from "vitest";
import { isLoopback } from "@grondslag/kit";
import { readEnv } from "./env";

const minimal = {
  KAFKA_BROKERS: "127.0.0.1:19092",
  GATEWAY_KAFKA_PASSWORD: "secret",
  REGISTRY_URL: "http://127.0.0.1:18080/apis/ccompat/v7",
  REGISTRY_PASSWORD: "secret",
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/grondslag",
  PSEUDONYM_KEY: Buffer.alloc(32, 7).toString("base64"),
};
const refusal = (env: Record<string, string>) => {
  try {
    readEnv(env);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
};

describe("the gateway environment", () => {
  it("defaults to production", () => {
    expect(readEnv(minimal).GRONDSLAG_ENV).toBe("production");
    expect(readEnv({ ...minimal, GRONDSLAG_ENV: "development" }).GRONDSLAG_ENV).toBe("development");
    expect(refusal({ ...minimal, GRONDSLAG_ENV: "staging" })).toMatch(/GRONDSLAG_ENV/);
  });

  it("refuses development keys in production, the default included", () => {
    const keys = { DEV_KEYS_DIR: "infra/.state/dev-keys" };
    expect(refusal({ ...minimal, ...keys })).toBe(
      "invalid gateway environment:\n  DEV_KEYS_DIR: development keys are refused when GRONDSLAG_ENV is production: unset DEV_KEYS_DIR, or set GRONDSLAG_ENV=development on a development machine",
    );
    expect(refusal({ ...minimal, ...keys, GRONDSLAG_ENV: "production" })).toMatch(
      /GRONDSLAG_ENV is production/,
    );
  });

  it("refuses development keys when the gateway listens beyond loopback, even in development", () => {
    const dev = { ...minimal, DEV_KEYS_DIR: "infra/.state/dev-keys", GRONDSLAG_ENV: "development" };
    for (const host of ["0.0.0.0", "::", "10.1.2.3", "gateway.internal"]) {
      expect(refusal({ ...dev, GATEWAY_HOST: host }), host).toBe(
        `invalid gateway environment:\n  DEV_KEYS_DIR: development keys are refused when the gateway listens on ${host}: listen on 127.0.0.1 (GATEWAY_HOST) or unset DEV_KEYS_DIR`,
      );
    }
    expect(
      refusal({ ...dev, GRONDSLAG_ENV: "production", GATEWAY_HOST: "0.0.0.0" })?.split("\n"),
    ).toHaveLength(3);
  });

  it("accepts development keys in development on loopback (the default host)", () => {
    const dev = { ...minimal, DEV_KEYS_DIR: "infra/.state/dev-keys", GRONDSLAG_ENV: "development" };
    expect(readEnv(dev).DEV_KEYS_DIR).toBe("infra/.state/dev-keys");
    for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"]) {
      expect(readEnv({ ...dev, GATEWAY_HOST: host }).GATEWAY_HOST).toBe(host);
    }
  });

  it("knows loopback addresses", () => {
    for (const h of ["127.0.0.1", "127.255.0.1", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "LOCALHOST"]) {
      expect(isLoopback(h), h).toBe(true);
    }
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "localhost.example", ""]) {
      expect(isLoopback(h), h).toBe(false);
    }
  });

  it("reads the scaling and limit variables, with safe defaults, and names a bad one", () => {
    const d = readEnv(minimal);
    expect(d).toMatchObject({
      GATEWAY_WORKERS: ["delivery", "ingress"],
      GATEWAY_GROUP_PREFIX: "grondslag.gateway",
      GATEWAY_RATE_PER_SECOND: 100,
      GATEWAY_STREAMS_PER_PARTY: 4,
      GATEWAY_IDEMPOTENCY_RETENTION_HOURS: 168,
      GATEWAY_DB_MAINTENANCE_SECONDS: 30,
    });
    expect(d.GATEWAY_INGRESS_PARTIES).toBeUndefined();
    expect(refusal({ ...minimal, GATEWAY_IDEMPOTENCY_RETENTION_HOURS: "0" })).toMatch(
      /GATEWAY_IDEMPOTENCY_RETENTION_HOURS/,
    );
    const set = readEnv({
      ...minimal,
      GATEWAY_WORKERS: "none",
      GATEWAY_GROUP_PREFIX: "grondslag.gateway.blue",
      GATEWAY_INGRESS_PARTIES: "uwv, gemeente.schiedam",
    });
    expect(set.GATEWAY_WORKERS).toEqual([]);
    expect(set.GATEWAY_INGRESS_PARTIES).toEqual(["uwv", "gemeente.schiedam"]);
    expect(d.GATEWAY_URGENT_TOPICS).toBeUndefined();
    const lanes = readEnv({
      ...minimal,
      GATEWAY_WORKERS: "delivery-urgent",
      GATEWAY_URGENT_TOPICS: "lsi.*, wtta.admission-revoked",
    });
    expect(lanes.GATEWAY_WORKERS).toEqual(["delivery-urgent"]);
    expect(lanes.GATEWAY_URGENT_TOPICS).toEqual(["lsi.*", "wtta.admission-revoked"]);
    expect(refusal({ ...minimal, GATEWAY_WORKERS: "delivery,publish" })).toMatch(/GATEWAY_WORKERS/);
    // Outside the gateway's ACLs its groups would be refused at run time: refuse it at start instead.
    expect(refusal({ ...minimal, GATEWAY_GROUP_PREFIX: "other" })).toMatch(
      /GATEWAY_GROUP_PREFIX: must be grondslag.gateway or start with grondslag.gateway./,
    );
  });
});
