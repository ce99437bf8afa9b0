import { describe, expect, it } from "vitest";
import { topicMatches } from "./gateway";

describe("urgent topics (GATEWAY_URGENT_TOPICS)", () => {
  it("matches exact names and prefixes ending in *, nothing else", () => {
    const urgent = ["lsi.*", "wtta.admission-revoked"];
    expect(topicMatches(urgent, "lsi.signal-raised")).toBe(true);
    expect(topicMatches(urgent, "wtta.admission-revoked")).toBe(true);
    expect(topicMatches(urgent, "wtta.admission-revoked-x")).toBe(false);
    expect(topicMatches(urgent, "wtta.admission-granted")).toBe(false);
    expect(topicMatches(urgent, "arbo.accident-reported")).toBe(false);
    // No wildcard inside a name: "lsi" alone is a name, not a prefix.
    expect(topicMatches(["lsi"], "lsi.signal-raised")).toBe(false);
    expect(topicMatches([], "lsi.signal-raised")).toBe(false);
  });
});
