/** The state an agency's desk answers (`GET /v1/state`, services/agency/openapi/openapi.yaml). */
export interface AgencyState {
  service: string;
  party: string;
  transport: string;
  handled: number;
  // The service's own state: each service's README describes it.
  state: Record<string, unknown>;
  outbox: OutboxEntry[];
  deadLetters: { eventId: string; topic: string; reason: string }[];
}

export interface OutboxEntry {
  id: string;
  topic: string;
  state: "pending" | "sent" | "published" | "refused" | "failed";
  eventId: string | null;
  refusalCode: string | null;
  refusalDetail: string | null;
  causedBy: string | null;
}

/** A reaction the chain waits for: something that must hold in one agency's own state. */
export interface Reaction {
  party: string;
  what: string;
  holds: (state: AgencyState) => boolean;
}

/**
 * One step of the chain: an operator's action at one agency's desk (`action`), or an event a party without a service
 * of its own publishes through the SDK (`publish`: RvIG), or nothing but the reactions to what came before; then the
 * reactions it must cause.
 */
export interface ChainStep {
  title: string;
  party: string;
  action?: string;
  input?: unknown;
  publish?: { topic: string; value: Record<string, unknown> };
  reactions: Reaction[];
}

export interface DeskClient {
  /** Publishes as a party without an agency service of its own (the SDK over HTTP); resolves with the event id. */
  publish(party: string, topic: string, value: Record<string, unknown>): Promise<string>;
  call(
    party: string,
    method: string,
    urlPath: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }>;
  state(party: string): Promise<AgencyState>;
}

export interface StepOutcome {
  step: ChainStep;
  ok: boolean;
  /** What went wrong, when not ok. */
  problems: string[];
}

const rows = (x: unknown): Record<string, unknown>[] =>
  Array.isArray(x) ? (x as Record<string, unknown>[]) : [];
/** The rows of a table in an agency's state (`state.state[name]`), or none. */
export const table = (s: AgencyState, name: string): Record<string, unknown>[] => rows(s.state[name]);

/**
 * Runs the chain: each step's desk action, then every reaction it must cause (each awaited in the agency's own state,
 * with a deadline), then until no agency has an event still pending in its outbox, printing each event published
 * (with the gateway's verdict) and each reaction as it happens.
 */
export async function runChain(
  steps: readonly ChainStep[],
  desk: DeskClient,
  parties: readonly string[],
  out: (line: string) => void,
  opts: { reactionTimeoutMs?: number } = {},
): Promise<StepOutcome[]> {
  const timeout = opts.reactionTimeoutMs ?? 45_000;
  const seen = new Set<string>();
  const outcomes: StepOutcome[] = [];
  const report = async () => {
    for (const party of parties) {
      const s = await desk.state(party);
      for (const o of s.outbox) {
        if (o.state === "pending" || seen.has(o.id)) continue;
        seen.add(o.id);
        const verdict =
          o.state === "refused" || o.state === "failed"
            ? `✗ ${o.state}: ${o.refusalCode ?? "?"} — ${o.refusalDetail ?? ""}`
            : o.state;
        out(`       ⇢ ${party.padEnd(26)} published ${o.topic.padEnd(32)} ${verdict}`);
      }
    }
  };
  const quiet = async (deadline: number) => {
    for (;;) {
      let pending = 0;
      for (const party of parties)
        pending += (await desk.state(party)).outbox.filter((o) => o.state === "pending").length;
      if (pending === 0 || Date.now() > deadline) return pending;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // Whatever an earlier run left in the outboxes is not this run's news.
  for (const party of parties) for (const o of (await desk.state(party)).outbox) seen.add(o.id);

  for (const [i, step] of steps.entries()) {
    const problems: string[] = [];
    out(`  ${String(i + 1).padStart(2)}. ${step.title}`);
    const t0 = Date.now();
    if (step.action) {
      out(`       → ${step.party} desk: ${step.action}`);
      const r = await desk.call(step.party, "POST", `/v1/desk/${step.action}`, step.input ?? {});
      if (r.status !== 200) {
        const p = r.body as { code?: string; detail?: string };
        problems.push(`${step.party} ${step.action}: ${r.status} ${p.code ?? ""} ${p.detail ?? ""}`);
        out(`       ✗ ${r.status} ${p.code ?? ""}: ${p.detail ?? JSON.stringify(r.body)}`);
      }
    } else if (step.publish) {
      try {
        await desk.publish(step.party, step.publish.topic, step.publish.value);
        out(`       ⇢ ${step.party.padEnd(26)} published ${step.publish.topic.padEnd(32)} accepted`);
      } catch (err) {
        problems.push(`${step.party} publish ${step.publish.topic}: ${(err as Error).message}`);
        out(`       ✗ ${step.party} publish ${step.publish.topic}: ${(err as Error).message}`);
      }
    }
    for (const reaction of step.reactions) {
      const deadline = Date.now() + timeout;
      let held = false;
      let last: AgencyState | undefined;
      while (!held && Date.now() < deadline) {
        last = await desk.state(reaction.party);
        held = reaction.holds(last);
        if (!held) await new Promise((res) => setTimeout(res, 100));
      }
      const at = ((Date.now() - t0) / 1000).toFixed(1);
      if (held) out(`       ✓ ${reaction.party.padEnd(26)} ${reaction.what} (${at} s)`);
      else {
        problems.push(`${reaction.party}: ${reaction.what}: not within ${timeout / 1000} s`);
        out(`       ✗ ${reaction.party.padEnd(26)} ${reaction.what}: not within ${timeout / 1000} s`);
        if (last?.deadLetters.length) {
          out(
            `         its dead letters: ${last.deadLetters.map((d) => `${d.topic}: ${d.reason}`).join("; ")}`,
          );
        }
      }
    }
    const pending = await quiet(Date.now() + timeout);
    if (pending > 0) problems.push(`${pending} event(s) still pending in the outboxes after step ${i + 1}`);
    await report();
    outcomes.push({ step, ok: problems.length === 0, problems });
  }
  return outcomes;
}
