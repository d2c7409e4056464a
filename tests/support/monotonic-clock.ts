import type { MonotonicClock } from '../../electron/core/platform/clock.js';

/**
 * A clock like a laptop's: `now()` is the wall clock, `monotonicNow()` the running time, and timers count
 * running time as Node's do. `run` lets time pass (both move, due timers fire in order); `sleep` and
 * `setWall` move the wall clock alone, as a suspend or a clock change does.
 */
export class LaptopClock implements MonotonicClock {
  private wall = Date.parse('2026-03-02T09:00:00Z');
  private running = 0;
  private timers: { due: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  now(): number {
    return this.wall;
  }

  monotonicNow(): number {
    return this.running;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ due: this.running + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** `ms` of running time pass; each timer that comes due fires at its own time. */
  run(ms: number): void {
    const end = this.running + ms;
    while (this.fireNextDue(end));
    this.passUntil(end);
  }

  /** Fires the first timer due by running time `end`, both clocks moved to its due time; false if there is none. */
  protected fireNextDue(end: number): boolean {
    const next = this.timers.filter((t) => t.due <= end).sort((a, b) => a.due - b.due || a.id - b.id)[0];
    if (!next) return false;
    this.timers = this.timers.filter((t) => t.id !== next.id);
    this.passUntil(next.due);
    next.fn();
    return true;
  }

  /** Both clocks move on to running time `end`, firing nothing. */
  protected passUntil(end: number): void {
    this.wall += end - this.running;
    this.running = end;
  }

  /** Suspended for `ms`: the wall clock moves, running time and timers do not. */
  sleep(ms: number): void {
    this.wall += ms;
  }

  /** The wall clock is set by `ms` (back when negative), as NTP or a person would. */
  setWall(ms: number): void {
    this.wall += ms;
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}
