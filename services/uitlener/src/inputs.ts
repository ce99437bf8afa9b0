/**
 * The desk actions' input schemas (zod). Identifiers are checked with the catalogue's own validators; a refusal
 * message never repeats the value (a wrong BSN is still personal data). The rules check the rest (dates against
 * today, duplicates, state).
 */
import {
  AccidentSeverity,
  InjuryNature,
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  MeasureKind,
  RegisterStatus,
} from "@grondslag/schemas";
import { z } from "zod";

const text = (max: number) => z.string().trim().min(1).max(max);
const bsn = z.string().refine(isValidBsn, { message: "not a valid BSN (nine digits passing the elfproef)" });
const kvk = z.string().refine(isValidKvk, { message: "not a KvK number (eight digits)" });
const gemeentecode = z
  .string()
  .refine(isValidGemeentecode, { message: "not a gemeentecode (GM and four digits)" });
const day = z.iso.date({ message: "not a day (YYYY-MM-DD)" });
const instant = z.iso.datetime({ offset: true, message: "not an ISO-8601 instant with an offset or Z" });
const nationality = z.string().regex(/^[A-Z]{2}$/, { message: "not an ISO 3166-1 alpha-2 code, e.g. PL" });
const reference = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, { message: "letters, digits and . _ / - only" });

export const workplaceInput = z.object({
  street: text(120),
  houseNumber: text(16),
  postalCode: z.string().regex(/^\d{4} ?[A-Z]{2}$/, { message: "not a Dutch postal code, e.g. 5961AB" }),
  municipalityCode: gemeentecode,
  workplace: text(120),
});

export const registerWorkerInput = z.object({
  bsn,
  name: text(200),
  dateOfBirth: day,
  nationality,
  occupation: text(120),
  inlenerKvk: kvk.nullish(),
});

export const registerInlenerInput = z.object({
  kvk,
  name: text(200),
  workplace: workplaceInput.nullish(),
});

export const recordAdmissionInput = z.object({
  status: z.enum([...RegisterStatus, "REFUSED"]),
  admissionNumber: text(64).nullish(),
  effectiveDate: day,
  decisionReference: reference,
});

export const verifyReturnInput = z.object({
  reportReference: z.string().trim().min(1).max(200),
  verifiedOn: day,
  measures: z.array(z.enum(MeasureKind)).max(MeasureKind.length * 2),
  measuresDescription: text(2000),
  workResumed: z.boolean(),
});

export const registerPlacementInput = z.object({
  uitlenerKvk: kvk,
  workerBsn: bsn,
  since: day,
});

export const reportAccidentInput = z.object({
  reportReference: reference,
  notificationReference: reference.optional(),
  uitlenerKvk: kvk,
  accidentTime: instant,
  severity: z.enum(AccidentSeverity),
  worker: z.object({
    bsn,
    name: text(200),
    dateOfBirth: day,
    nationality,
    occupation: text(120),
  }),
  location: workplaceInput,
  injury: z.object({
    nature: z.enum(InjuryNature),
    bodyPart: text(120),
    hospitalised: z.boolean(),
    hospitalisedDays: z.number().int().min(0).max(3650).nullish(),
  }),
  circumstances: text(4000),
});
