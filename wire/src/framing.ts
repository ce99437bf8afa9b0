/**
 * The Confluent wire format the registry's clients speak (and Apicurio's `confluent` compatibility API serves):
 * magic byte 0, the 4-byte big-endian schema id, then the Avro binary body.
 */
export const FRAME_HEADER_BYTES = 5;

export function toWire(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out[0] = 0;
  out.writeInt32BE(schemaId, 1);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** The schema id and body, or undefined when `buf` is not framed (too short, or another magic byte). */
export function fromWire(buf: Buffer): { schemaId: number; body: Buffer } | undefined {
  if (buf.length < FRAME_HEADER_BYTES || buf[0] !== 0) return undefined;
  return { schemaId: buf.readInt32BE(1), body: buf.subarray(FRAME_HEADER_BYTES) };
}
