/**
 * The event ids a subscription already handed out, so a redelivery (at-least-once: a retried poll, a reconnected
 * stream, a rebalanced Kafka consumer) is dropped instead of handed out twice. Bounded: it remembers the last
 * `capacity` ids (default 10 000) and forgets the oldest first, so a redelivery older than that comes through.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(readonly capacity = 10_000) {
    if (!(capacity >= 1)) throw new Error("RecentIds: capacity must be at least 1");
  }

  /** True the first time `id` is seen (and remembers it); false for a repeat. */
  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.remember(id);
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers `id` (for a handler that must succeed before its event counts as handed out). */
  remember(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
