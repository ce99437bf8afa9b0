/**
 * Groups concurrent single calls into one batch call: the first call waits `delayMs` for company, a batch that
 * reaches `maxItems` goes at once. Each caller gets its own outcome: a value, or the refusal the batch returned for
 * it (`isRefusal`); a batch that fails as a whole fails every call in it.
 */
export function createCoalescer<C, R, E>(opts: {
  run: (items: C[]) => Promise<(R | E)[]>;
  isRefusal: (outcome: R | E) => outcome is E;
  maxItems: number;
  delayMs: number;
}): (item: C) => Promise<R> {
  let pending: { item: C; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    const items = pending;
    pending = [];
    timer = undefined;
    opts.run(items.map((i) => i.item)).then(
      (results) =>
        results.forEach((r, i) => {
          const waiting = items[i];
          if (!waiting) return;
          if (opts.isRefusal(r)) waiting.reject(r);
          else waiting.resolve(r);
        }),
      (err: unknown) => items.forEach((i) => i.reject(err)),
    );
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (pending.length >= opts.maxItems) {
        clearTimeout(timer);
        flush();
      } else {
        timer ??= setTimeout(flush, opts.delayMs);
      }
    });
}
