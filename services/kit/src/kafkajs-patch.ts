// The one mechanism behind the kit's kafkajs fixes (kafkajs-aborted.ts, kafkajs-record.ts): a function of ours in
// Node's module cache under the name of one of kafkajs' internal modules, so kafkajs' own `require` of it gets ours.
// kafkajs (2.2.4) is unmaintained; these are the places where its behaviour is wrong or slow and nothing in its
// public API reaches.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export interface KafkajsPatch<F> {
  /** Whether kafkajs uses the replacement in this process. */
  inForce(): boolean;
  /** kafkajs' own function, when this process (any copy of the patching module) put the replacement in its place. */
  original(): F | undefined;
}

/**
 * Puts `replacement` in the module cache as `module` (a path inside kafkajs). It takes only while `dependent`, the
 * kafkajs module that requires `module` and keeps what it found, is not loaded yet; otherwise kafkajs keeps its own,
 * and the process gets a warning with `code`.
 *
 * The replacement is marked with `Symbol.for(name)`, and kafkajs' own is kept under another registry symbol: a test
 * runner evaluates the patching module once per spec file, and each copy must see what the first one did.
 */
export function patchKafkajsModule<F extends (...args: never[]) => unknown>(opts: {
  name: string;
  module: string;
  dependent: string;
  replacement: F;
  warning: string;
  code: string;
}): KafkajsPatch<F> {
  const mark = Symbol.for(opts.name);
  const originalKey = Symbol.for(`${opts.name}.original`);
  const store = globalThis as unknown as Record<symbol, F | undefined>;
  Object.defineProperty(opts.replacement, mark, { value: true });
  const isOurs = (f: unknown) =>
    typeof f === "function" && (f as unknown as Record<symbol, unknown>)[mark] === true;
  const path = require.resolve(opts.module);

  const install = (): boolean => {
    if (isOurs(require.cache[path]?.exports)) return true;
    if (require.cache[require.resolve(opts.dependent)]) return false;
    const original = require(path) as unknown;
    const entry = require.cache[path];
    if (!entry || typeof original !== "function") return false;
    store[originalKey] = original as F;
    entry.exports = opts.replacement;
    return true;
  };
  const installed = install();
  if (!installed) process.emitWarning(opts.warning, { code: opts.code });
  return {
    inForce: () => installed && isOurs(require.cache[path]?.exports),
    original: () => store[originalKey],
  };
}
