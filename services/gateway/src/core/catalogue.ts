import fs from "node:fs";
import { loadCatalogue, type Catalogue } from "@grondslag/contracts";
import type { Logger } from "pino";

/**
 * The contracts in force, reloaded when their files change: a changed consumer, field list, purpose or validity
 * window takes effect without a restart. A reload that fails to load or lint is logged and ignored (the last good
 * catalogue stays in force: never fail open). New topics or new producing parties also need `contracts:apply`
 * and a gateway restart, because the workers subscribe to topics at start.
 */
export class CatalogueHolder {
  private value: Catalogue;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string | undefined,
    private readonly log: Logger,
  ) {
    this.value = loadCatalogue(dir);
  }

  readonly current = (): Catalogue => this.value;

  /** Reloads now; returns whether the new catalogue was taken. */
  reload(): boolean {
    try {
      // loadCatalogue lints too: a catalogue that does not lint throws with every problem.
      this.value = loadCatalogue(this.dir);
      this.log.info("contracts reloaded");
      return true;
    } catch (err) {
      this.log.error({ err }, "contracts changed but do not load or lint; keeping the old ones");
      return false;
    }
  }

  watch(): void {
    if (!this.dir || this.watcher) return;
    this.watcher = fs.watch(this.dir, { recursive: true }, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), 300);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
