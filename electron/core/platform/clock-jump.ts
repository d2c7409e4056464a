import type { MonotonicClock } from './clock.js';

/** How often the wall clock is compared with the monotonic one. */
export const CLOCK_CHECK_MS = 15_000;
/** A wall clock that moved this much more (or less) than the monotonic one jumped. */
export const CLOCK_JUMP_MS = 5_000;

/**
 * Calls `onJump` when, between two checks, the wall clock moved more than `jumpMs` more than the monotonic
 * clock (the machine slept, or the clock was set forward) or less (set back). Node's timers count monotonic
 * time, so a refresh planned for 10:55 fires late after a sleep; this is how the agent notices within one
 * check of waking, with or without a desktop telling it. Returns the function that stops watching.
 */
export function watchClockJumps(
  clock: MonotonicClock,
  onJump: (driftMs: number) => void,
  opts: { checkMs?: number; jumpMs?: number } = {},
): () => void {
  const checkMs = opts.checkMs ?? CLOCK_CHECK_MS;
  const jumpMs = opts.jumpMs ?? CLOCK_JUMP_MS;
  let lastWall = clock.now();
  let lastMono = clock.monotonicNow();
  let cancel: (() => void) | undefined;
  let stopped = false;
  const arm = () => {
    if (!stopped) cancel = clock.setTimer(checkMs, check);
  };
  function check(): void {
    const wall = clock.now();
    const mono = clock.monotonicNow();
    const drift = wall - lastWall - (mono - lastMono);
    lastWall = wall;
    lastMono = mono;
    arm(); // before calling out: a listener that throws must not end the watch
    if (Math.abs(drift) > jumpMs) onJump(drift);
  }
  arm();
  return () => {
    stopped = true;
    cancel?.();
    cancel = undefined;
  };
}

/** A repeating timer with a wall and a monotonic clock beside it, as the tray app's timer port has them. */
export interface IntervalClock {
  every(ms: number, fn: () => void): () => void;
  wallNow(): number;
  monotonicNow(): number;
}

/** The same clocks as a MonotonicClock, each timer a repeating one stopped after its first tick. */
export function monotonicClockOf(t: IntervalClock): MonotonicClock {
  return {
    now: () => t.wallNow(),
    monotonicNow: () => t.monotonicNow(),
    setTimer(ms, fn) {
      const stop = t.every(ms, () => {
        stop();
        fn();
      });
      return stop;
    },
  };
}
