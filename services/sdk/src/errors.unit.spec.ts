import { GrondslagError } from "@grondslag/wire";
import { describe, expect, it } from "vitest";
import { parseRetryAfter, RefusalError, refusalFromHeaders, refusalFromProblem } from "./errors";

describe("refusals from problem+json", () => {
  it("carry the gateway's code, detail, fix, field and traceId, and know whether to retry", () => {
    const err = refusalFromProblem(400, {
      type: "https://grondslag.example/problems/schema-violation",
      title: "Payload does not match the topic's schema",
      status: 400,
      detail: "victim.dateOfBirth: expected a date (YYYY-MM-DD)",
      code: "SCHEMA_VIOLATION",
      fix: "Send the field in the shape the topic's schema requires.",
      field: "victim.dateOfBirth",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(err).toBeInstanceOf(RefusalError);
    expect(err).toBeInstanceOf(GrondslagError);
    expect(err).toMatchObject({
      code: "SCHEMA_VIOLATION",
      status: 400,
      retriable: false,
      field: "victim.dateOfBirth",
      fix: "Send the field in the shape the topic's schema requires.",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(err.message).toBe("SCHEMA_VIOLATION: victim.dateOfBirth: expected a date (YYYY-MM-DD)");
  });

  it("a 429 keeps its Retry-After; an answer without a problem document still becomes a typed refusal", () => {
    const limited = refusalFromProblem(
      429,
      { code: "RATE_LIMITED", detail: "d", fix: "f", status: 429 },
      "2",
    );
    expect(limited).toMatchObject({ retriable: true, retryAfterSeconds: 2 });
    expect(refusalFromProblem(502, "<html>Bad gateway</html>")).toMatchObject({
      code: "UNAVAILABLE",
      retriable: true,
    });
    expect(refusalFromProblem(500, "")).toMatchObject({ code: "INTERNAL", retriable: true });
    expect(refusalFromProblem(404, { code: "NOT_A_CODE" })).toMatchObject({
      code: "NOT_FOUND",
      retriable: false,
    });
    expect(refusalFromProblem(403, null).fix).not.toBe("");
  });

  it("Retry-After: delta-seconds or an HTTP date", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("5", now)).toBe(5);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("refusals from rejected.<party> headers", () => {
  it("read the reason headers, and an unknown code is no crash", () => {
    const err = refusalFromHeaders({
      "grondslag-reason-code": Buffer.from("MALFORMED_RECORD"),
      "grondslag-reason-detail": Buffer.from("string is not valid UTF-8 at location.workplace"),
      "grondslag-reason-fix": Buffer.from("Encode the value with the topic's schema."),
      "grondslag-reason-field": Buffer.from("location.workplace"),
      traceparent: Buffer.from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    });
    expect(err).toMatchObject({
      code: "MALFORMED_RECORD",
      status: 400,
      retriable: false,
      field: "location.workplace",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(refusalFromHeaders({ "grondslag-reason-code": "NEW_CODE" }).code).toBe("INTERNAL");
  });
});
