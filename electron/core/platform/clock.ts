/** Time as the session sees it; tests inject their own so refresh timing is exercised without sleeping. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): () => void;
}

/**
 * A clock with a monotonic side as well: `now()` is the wall clock, which jumps (NTP, a manual change, waking
 * from sleep); `monotonicNow()` never jumps and, like Node's timers, stops while the machine sleeps. The two
 * moving apart is how a sleep or a clock change is noticed (see clock-jump.ts).
 */
export interface MonotonicClock extends Clock {
  monotonicNow(): number;
}

/**
 * A server's clock minus ours, from its `Date` header (whole seconds): compared with the middle of the
 * request, plus 0.5 s for the truncation. Undefined without a readable header.
 */
export function offsetFromDateHeader(date: string | null | undefined, sentAt: number, receivedAt: number): number | undefined {
  const serverMs = date ? Date.parse(date) : NaN;
  return Number.isFinite(serverMs) ? serverMs + 500 - (sentAt + receivedAt) / 2 : undefined;
}

export const systemClock: MonotonicClock = {
  now: () => Date.now(),
  // CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS: neither counts time asleep.
  monotonicNow: () => performance.now(),
  setTimer(ms, fn) {
    // Timers longer than ~24.8 days overflow in Node; the session never needs one that long.
    const handle = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    handle.unref?.();
    return () => clearTimeout(handle);
  },
};
