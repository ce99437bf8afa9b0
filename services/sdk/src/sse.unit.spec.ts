import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("SseParser", () => {
  it("parses events split anywhere, skips comments, joins data lines, keeps the last id", () => {
    const p = new SseParser();
    const text =
      ': keep-alive\n\nid: 0:1\nevent: delivery\ndata: {"a":1}\n\n' +
      "event: delivery\r\ndata: line one\r\ndata: line two\r\n\r\n" +
      'id: 0:3\revent: problem\rdata: {"code":"X"}\r\r: end\n';
    const out = [];
    for (const ch of text) out.push(...p.push(ch)); // one character at a time: CRLF split across chunks too
    expect(out).toEqual([
      { id: "0:1", event: "delivery", data: '{"a":1}' },
      { id: "0:1", event: "delivery", data: "line one\nline two" },
      { id: "0:3", event: "problem", data: '{"code":"X"}' },
    ]);
  });

  it("does not dispatch an event without data, and defaults the type to message", () => {
    const p = new SseParser();
    expect(p.push("event: delivery\n\ndata:x\n\n")).toEqual([{ id: undefined, event: "message", data: "x" }]);
  });
});
