// For the kit's specs that compare against kafkajs over generated cases (kafkajs-record, kafkajs-produce).

/** A deterministic generator (xorshift32), so a failing case is the same on every run (its seed is in the message). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
