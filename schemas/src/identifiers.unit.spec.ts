import { describe, expect, it } from "vitest";
import {
  exampleEvent,
  identifierProblems,
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  rawSchema,
} from "./index";

describe("isValidBsn (elfproef)", () => {
  it.each(["111222333", "123456782", "999999990"])("accepts %s", (bsn) => expect(isValidBsn(bsn)).toBe(true));
  it.each([
    ["123456789", "fails the 11-proef"],
    ["111222334", "wrong check digit"],
    ["12345678", "eight digits"],
    ["1234567820", "ten digits"],
    ["12345678a", "not a digit"],
    [" 11122233", "whitespace"],
    ["000000000", "all zeros is never issued"],
  ])("rejects %s (%s)", (bsn) => expect(isValidBsn(bsn)).toBe(false));

  it("weighs the last digit with -1, not +1", () => {
    // 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3 = 69; with -1*d the check digit 3 makes 66 (divisible by 11);
    // a +1 weight would need 69 + d ≡ 0, i.e. d = 8.
    expect(isValidBsn("111222333")).toBe(true);
    expect(isValidBsn("111222338")).toBe(false);
  });
});

describe("isValidKvk and isValidGemeentecode", () => {
  it("checks eight digits for KvK", () => {
    expect(isValidKvk("90000001")).toBe(true);
    expect(isValidKvk("9000001")).toBe(false);
    expect(isValidKvk("900000011")).toBe(false);
    expect(isValidKvk("9000000A")).toBe(false);
  });

  it("checks GM and four digits for a gemeentecode", () => {
    expect(isValidGemeentecode("GM0606")).toBe(true);
    expect(isValidGemeentecode("0606")).toBe(false);
    expect(isValidGemeentecode("gm0606")).toBe(false);
    expect(isValidGemeentecode("GM606")).toBe(false);
  });
});

describe("identifierProblems", () => {
  it("names the path, including array elements, but never the value", () => {
    const event = exampleEvent("lsi.signal-raised");
    event.persons.push({ bsn: "123456789", role: "WORKER" });
    event.municipalityCode = "0606";
    event.subjectKvk = "1234";
    const problems = identifierProblems(rawSchema("lsi.signal-raised"), event);
    expect(problems).toEqual([
      { path: "subjectKvk", identifier: "kvk", message: "subjectKvk is not a valid kvk" },
      {
        path: "municipalityCode",
        identifier: "gemeentecode",
        message: "municipalityCode is not a valid gemeentecode",
      },
      { path: "persons[1].bsn", identifier: "bsn", message: "persons[1].bsn is not a valid bsn" },
    ]);
    expect(JSON.stringify(problems)).not.toContain("123456789");
  });

  it("checks nested records and lets null pass", () => {
    const event = exampleEvent("arbo.accident-reported");
    event.victim.bsn = "111222334";
    event.location.municipalityCode = "GM15070";
    expect(identifierProblems(rawSchema("arbo.accident-reported"), event).map((p) => p.path)).toEqual([
      "location.municipalityCode",
      "victim.bsn",
    ]);
    const signal = { ...exampleEvent("lsi.signal-raised"), municipalityCode: null };
    expect(identifierProblems(rawSchema("lsi.signal-raised"), signal)).toEqual([]);
  });

  it("walks a recursive schema in full (it has no finite plan) and finds identifiers at any depth", () => {
    const person = {
      type: "record",
      name: "Person",
      namespace: "t",
      fields: [
        { name: "bsn", type: "string", "x-identifier": "bsn" },
        { name: "guardian", type: ["null", "t.Person"], default: null },
      ],
    } as const;
    const value = { bsn: "111222333", guardian: { bsn: "123456789", guardian: null } };
    expect(identifierProblems(person as never, value).map((p) => p.path)).toEqual(["guardian.bsn"]);
    expect(identifierProblems(Object.freeze(person) as never, value).map((p) => p.path)).toEqual([
      "guardian.bsn",
    ]);
  });
});
