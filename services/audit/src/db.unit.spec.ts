import { isTransient } from "@grondslag/kit";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { AuditStore } from "./db";

/** A pool whose one client fails the chain-head read the way PostgreSQL does, with `code` as the SQLSTATE. */
function failingPool(code: string | undefined): pg.Pool {
  const client = {
    on: () => client,
    off: () => client,
    release: () => undefined,
    query: (sql: string) =>
      /^(BEGIN|ROLLBACK)/.test(sql)
        ? Promise.resolve({ rows: [] })
        : Promise.reject(
            Object.assign(new Error(`refused (${code ?? "no SQLSTATE"})`), code ? { code } : {}),
          ),
  };
  return { connect: () => Promise.resolve(client) } as unknown as pg.Pool;
}

const appendWith = (code: string | undefined) =>
  new AuditStore(failingPool(code), { schema: "audit" })
    .append(0, [{ id: "r1" }], () => [])
    .then(
      () => undefined,
      (err: unknown) => err,
    );

describe("AuditStore: which failures hold a partition and which set a record aside", () => {
  it("sets aside a record PostgreSQL refuses for its own data, instead of retrying it for ever", async () => {
    // 22P05: a character the encoding lacks (a NUL did stop a partition for good); 22003 out of range; 54000 an
    // index row too large; 23514 a check constraint.
    for (const code of ["22P05", "22003", "54000", "23514"]) {
      const err = await appendWith(code);
      expect(err, code).toMatchObject({ code: "INTERNAL" });
      expect(isTransient(err), code).toBe(false);
    }
  });

  it("holds and retries what is the store's or the operator's to fix, never setting a record aside", async () => {
    // A lost connection, a missing grant, a full disk, a deadlock, a concurrent writer's duplicate, no SQLSTATE.
    for (const code of ["08006", "42501", "53100", "40P01", "23505", undefined]) {
      const err = await appendWith(code);
      expect(err, code).toMatchObject({ code: "UNAVAILABLE" });
      expect(isTransient(err), code).toBe(true);
    }
  });
});
