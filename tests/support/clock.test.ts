/** The tests' ManualClock: timers fire only on advance, in order, and a timer that re-arms itself cannot hang a test. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './clock.js';

test('advance runs the timers that came due, in due order, and leaves later ones', () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimer(3_000, () => fired.push('3 s'));
  clock.setTimer(1_000, () => fired.push('1 s'));
  clock.setTimer(9_000, () => fired.push('9 s'));
  clock.advance(5_000);
  assert.deepEqual(fired, ['1 s', '3 s']);
  assert.equal(clock.pendingTimers(), 1);
});

test('a timer that re-arms itself at now makes advance throw after maxTimers instead of spinning forever', () => {
  const clock = new ManualClock();
  let fired = 0;
  const rearm = (): void => {
    fired++;
    clock.setTimer(0, rearm);
  };
  clock.setTimer(0, rearm);
  assert.throws(() => clock.advance(1, 50), /ManualClock\.advance\(1\): more than 50 timers came due; a callback keeps re-arming at or before now/);
  assert.equal(fired, 50);
});

test('two readings in one synchronous turn are equal; the next turn reads real time again', async () => {
  const clock = new ManualClock();
  const first = clock.now();
  const spinUntil = Date.now() + 3;
  while (Date.now() < spinUntil) {
    // Real time moves on within this turn.
  }
  assert.equal(clock.now(), first);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(clock.now() >= first + 3);
});
