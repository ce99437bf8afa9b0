import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { consumersOf, defaultDataDir } from "@grondslag/contracts";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@grondslag/infra";
import { CatalogueHolder } from "./catalogue";

describe("contracts in force, reloaded without a restart", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const copy = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-contracts-"));
    fs.cpSync(defaultDataDir, dir, { recursive: true });
    dirs.push(dir);
    return dir;
  };
  const accidentFile = (dir: string) => path.join(dir, "topics", "arbo.accident-reported.yaml");
  const recipients = (holder: CatalogueHolder) =>
    consumersOf(holder.current(), "arbo.accident-reported", new Date()).map((d) => d.party.id);

  it("takes a changed contract when its file changes: removing uwv as a consumer stops its deliveries", async () => {
    const dir = copy();
    const holder = new CatalogueHolder(dir, pino({ level: "silent" }));
    holder.watch();
    try {
      expect(recipients(holder)).toEqual(["nla", "uwv"]);
      const text = fs.readFileSync(accidentFile(dir), "utf8");
      const withoutUwv = text.slice(0, text.indexOf("  - party: uwv"));
      fs.writeFileSync(accidentFile(dir), withoutUwv);
      await waitFor("the reload", () => Promise.resolve(recipients(holder).length === 1 ? true : undefined), {
        timeoutMs: 10_000,
      });
      expect(recipients(holder)).toEqual(["nla"]);
    } finally {
      holder.close();
    }
  });

  it("keeps the last good contracts when a change does not lint (never fails open)", () => {
    const dir = copy();
    const holder = new CatalogueHolder(dir, pino({ level: "silent" }));
    const text = fs.readFileSync(accidentFile(dir), "utf8");
    // Health data to a consumer whose legal basis does not allow special categories.
    fs.writeFileSync(
      accidentFile(dir),
      text.replace("      - victim.agencyWorker", "      - victim.agencyWorker\n      - injury"),
    );
    expect(holder.reload()).toBe(false);
    expect(recipients(holder)).toEqual(["nla", "uwv"]);
    fs.writeFileSync(accidentFile(dir), "producers: [");
    expect(holder.reload()).toBe(false);
    expect(recipients(holder)).toEqual(["nla", "uwv"]);
  });
});
