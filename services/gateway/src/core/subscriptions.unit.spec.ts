import { loadCatalogue } from "@grondslag/contracts";
import { describe, expect, it } from "vitest";
import { readRefusal } from "./subscriptions";

const catalogue = loadCatalogue();
const at = new Date("2026-06-01T12:00:00Z");
const refusal = (req: { party: string; topic: string; purpose: string }, when = at) => {
  const e = readRefusal(catalogue, req, when);
  return e && { code: e.code, detail: e.detail, fix: e.fix, status: e.status };
};

describe("who may read a topic over the subscription API (checkConsume, as the gateway answers it)", () => {
  it("lets a consumer in force read for a purpose its entry lists", () => {
    expect(
      refusal({ party: "uwv", topic: "lsi.signal-raised", purpose: "lsi-samenwerking" }),
    ).toBeUndefined();
  });

  it("UNKNOWN_TOPIC: an internal topic name", () => {
    expect(
      refusal({ party: "uwv", topic: "deliver.uwv.lsi.signal-raised", purpose: "lsi-samenwerking" }),
    ).toEqual({
      code: "UNKNOWN_TOPIC",
      detail: 'there is no public topic "deliver.uwv.lsi.signal-raised"',
      fix: "subscribe to a topic your contract names",
      status: 404,
    });
  });

  it("NOT_A_CONSUMER: a producer that the contract does not name as a consumer", () => {
    expect(
      refusal({ party: "uitlener.90000001", topic: "arbo.accident-reported", purpose: "ongevalsmelding" }),
    ).toEqual({
      code: "NOT_A_CONSUMER",
      detail: "uitlener.90000001 is not a consumer of arbo.accident-reported under any contract in force",
      fix: "only parties the topic's contract names as consumers may subscribe; ask the contract owner",
      status: 403,
    });
  });

  it("NOT_A_CONSUMER: before the consumer entry starts, and for a party not in the registry", () => {
    const svb = { party: "svb", topic: "lsi.signal-raised", purpose: "lsi-samenwerking" };
    expect(refusal(svb, new Date("2022-06-01T12:00:00Z"))).toMatchObject({ code: "NOT_A_CONSUMER" });
    expect(refusal({ ...svb, party: "gemeente.atlantis" })).toEqual({
      code: "NOT_A_CONSUMER",
      detail: "gemeente.atlantis is not a consumer of lsi.signal-raised under any contract in force",
      fix: "only parties the topic's contract names as consumers may subscribe; ask the contract owner",
      status: 403,
    });
  });

  it("PURPOSE_NOT_ALLOWED: a purpose the consumer entry does not list, with the ones it does as the fix", () => {
    expect(refusal({ party: "uwv", topic: "lsi.signal-raised", purpose: "ongevalsonderzoek" })).toEqual({
      code: "PURPOSE_NOT_ALLOWED",
      detail: `purpose "ongevalsonderzoek" is not in uwv's contract for lsi.signal-raised`,
      fix: "name one of: lsi-samenwerking in the Doelbinding header",
      status: 403,
    });
  });
});
