/** Time as the session sees it; tests inject their own so refresh timing is exercised without sleeping. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    // Timers longer than ~24.8 days overflow in Node; the session never needs one that long.
    const handle = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    handle.unref?.();
    return () => clearTimeout(handle);
  },
};
