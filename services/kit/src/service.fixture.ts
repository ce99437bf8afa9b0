// A minimal service on the kit's skeleton, for service.int.spec.ts: it records start and stop in a file named by
// FIXTURE_LOG, turns unready when FIXTURE_UNREADY is set, and calls ctx.fatal after FIXTURE_FATAL_MS.
import fs from "node:fs";
import { z } from "zod";
import { baseEnv, createService, port } from "./index";

const env = baseEnv.extend({
  FIXTURE_PORT: port.default(0),
  FIXTURE_LOG: z.string().min(1),
  FIXTURE_UNREADY: z.string().optional(),
  FIXTURE_FATAL_MS: z.coerce.number().int().optional(),
  FIXTURE_STOP_MS: z.coerce.number().int().default(0),
});

const service = createService({
  name: "fixture",
  env,
  listen: (e) => ({ host: "127.0.0.1", port: e.FIXTURE_PORT }),
  start: (ctx) => {
    fs.appendFileSync(ctx.env.FIXTURE_LOG, "start\n");
    const fatalMs = ctx.env.FIXTURE_FATAL_MS;
    if (fatalMs !== undefined) setTimeout(() => ctx.fatal(new Error("worker gone"), "worker crash"), fatalMs);
    return Promise.resolve({
      readiness: {
        names: ["kafka"],
        check: () =>
          Promise.resolve({
            checks: { kafka: ctx.env.FIXTURE_UNREADY === undefined },
            ...(ctx.env.FIXTURE_UNREADY ? { reasons: [ctx.env.FIXTURE_UNREADY] } : {}),
          }),
      },
    });
  },
  stop: async (ctx) => {
    await new Promise((r) => setTimeout(r, ctx.env.FIXTURE_STOP_MS));
    fs.appendFileSync(ctx.env.FIXTURE_LOG, "stop\n");
  },
  shutdownTimeoutMs: 2000,
});
service.main();
