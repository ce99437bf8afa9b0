import { describe, expect, it } from "vitest";
import { registerWorkerInput, reportAccidentInput, verifyReturnInput } from "./inputs";

const report = {
  reportReference: "VDH-ARBO-2026-007",
  uitlenerKvk: "90000002",
  accidentTime: "2026-03-01T13:40:00Z",
  severity: "SERIOUS",
  worker: {
    bsn: "111222333",
    name: "Jan Voorbeeld",
    dateOfBirth: "1994-05-17",
    nationality: "PL",
    occupation: "harvester",
  },
  location: {
    street: "Tuinbouwweg",
    houseNumber: "12",
    postalCode: "5961AB",
    municipalityCode: "GM1507",
    workplace: "greenhouse",
  },
  injury: { nature: "FRACTURE", bodyPart: "left leg", hospitalised: true, hospitalisedDays: 3 },
  circumstances: "Trolley left the rail.",
};

describe("desk inputs", () => {
  it("identifiers: a desk input is checked with the catalogue's validators (BSN elfproef, KvK, gemeentecode)", () => {
    expect(reportAccidentInput.safeParse(report).success).toBe(true);
    expect(reportAccidentInput.safeParse({ ...report, uitlenerKvk: "9000000" }).success).toBe(false);
    expect(
      reportAccidentInput.safeParse({
        ...report,
        location: { ...report.location, municipalityCode: "GM15070" },
      }).success,
    ).toBe(false);
    expect(reportAccidentInput.safeParse({ ...report, severity: "MINOR" }).success).toBe(false);
    expect(reportAccidentInput.safeParse({ ...report, accidentTime: "2026-03-01 13:40" }).success).toBe(
      false,
    );
  });

  it("a refused input never repeats the BSN or the name it was given", () => {
    const r = registerWorkerInput.safeParse({
      bsn: "111222334",
      name: "",
      dateOfBirth: "1994-05-17",
      nationality: "PL",
      occupation: "harvester",
    });
    expect(r.success).toBe(false);
    const said = JSON.stringify(r.error?.issues);
    expect(said).toContain("elfproef");
    expect(said).not.toContain("111222334");
  });

  it("ch. 2.3: a verification names its measures from the schema's list", () => {
    const v = {
      reportReference: "R",
      verifiedOn: "2026-03-19",
      measures: ["INSTRUCTION_GIVEN"],
      measuresDescription: "d",
      workResumed: true,
    };
    expect(verifyReturnInput.safeParse(v).success).toBe(true);
    expect(verifyReturnInput.safeParse({ ...v, measures: ["PRAYER"] }).success).toBe(false);
  });
});
