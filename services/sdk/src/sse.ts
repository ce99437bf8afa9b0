/** One server-sent event (the fields this API uses). */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser (the WHATWG rules this API needs): lines end in LF, CRLF or CR; `:`
 * starts a comment (keep-alives); a blank line dispatches; `data` lines join with LF; an event without data is not
 * dispatched. Feed it decoded text as it arrives; it returns the events completed so far.
 */
export class SseParser {
  private buffer = "";
  private id: string | undefined;
  private event = "";
  private data: string[] = [];
  private sawData = false;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (m === null) break;
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (m[0] === "\r" && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") {
      const ev = this.sawData
        ? { id: this.id, event: this.event || "message", data: this.data.join("\n") }
        : undefined;
      this.event = "";
      this.data = [];
      this.sawData = false;
      return ev;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      this.data.push(value);
      this.sawData = true;
    } else if (field === "event") this.event = value;
    // The last event id persists across events until another `id` field sets it (no NUL allowed).
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return undefined;
  }
}
