import type { Clock } from '../../electron/core/platform/clock.js';

/**
 * A clock the test moves by hand: `now` is real time plus an offset, and timers fire only when `advance`
 * passes their due time. Refresh timing is then tested without sleeping. Real time is read once per
 * synchronous turn, so two readings in one turn (a record's time and a plan made from it) are equal.
 */
export class ManualClock implements Clock {
  private offset = 0;
  private timers: { due: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  private realInTurn: number | undefined;

  now(): number {
    if (this.realInTurn === undefined) {
      this.realInTurn = Date.now();
      queueMicrotask(() => (this.realInTurn = undefined));
    }
    return this.realInTurn + this.offset;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ due: this.now() + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** Moves time forward without running timers: a laptop waking from sleep. */
  jump(ms: number): void {
    this.offset += ms;
  }

  /**
   * Moves time forward and runs every timer that came due, in order: at most `maxTimers`, so a callback that
   * re-arms itself at or before now throws here instead of spinning forever.
   */
  advance(ms: number, maxTimers = 1_000): void {
    this.offset += ms;
    for (let fired = 0; ; fired++) {
      const due = this.timers.filter((t) => t.due <= this.now()).sort((a, b) => a.due - b.due)[0];
      if (!due) return;
      if (fired >= maxTimers) throw new Error(`ManualClock.advance(${ms}): more than ${maxTimers} timers came due; a callback keeps re-arming at or before now`);
      this.timers = this.timers.filter((t) => t.id !== due.id);
      due.fn();
    }
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  nextDue(): number | undefined {
    return this.timers.map((t) => t.due).sort((a, b) => a - b)[0];
  }
}
