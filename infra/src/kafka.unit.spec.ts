import { describe, expect, it } from "vitest";
import { kafkaClusterId } from "./kafka";

describe("kafkaClusterId", () => {
  it("is 16 bytes in URL-safe base64 and never starts with '-', which StorageTool would take for an option", () => {
    // 0xf8 encodes to "-" as the first base64url character.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x11)];
    const id = kafkaClusterId(() => draws.shift() ?? Buffer.alloc(16));
    expect(Buffer.alloc(16, 0xf8).toString("base64url").startsWith("-")).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x11).toString("base64url"));
    expect(Buffer.from(kafkaClusterId(), "base64url")).toHaveLength(16);
  });
});
