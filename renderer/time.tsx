/**
 * One shared second ticker for the few components that show live times (countdowns, "in 42 min"). Only they
 * re-render each second; the rest of the page changes only when new state is pushed. The timer runs only
 * while something shows a live time.
 */
import { useSyncExternalStore } from 'react';
import { relativeTime } from '../electron/shared/expiry.js';

const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;
let now = wholeSecond();

function wholeSecond(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = wholeSecond();
    timer = setInterval(() => {
      now = wholeSecond();
      for (const l of listeners) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function snapshot(): number {
  if (!timer) now = wholeSecond();
  return now;
}

/** The current time, to the second, updating every second while the component is shown. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}

/** "in 42 min" / "3 min ago", kept current. The same words as the tray and the CLI. */
export function RelativeTime({ at }: { at: string | number }) {
  const current = useNow();
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return null;
  return <time dateTime={new Date(ms).toISOString()}>{relativeTime(ms, current)}</time>;
}
