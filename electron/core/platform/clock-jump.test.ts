import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LaptopClock } from '../../../tests/support/monotonic-clock.js';
import { CLOCK_CHECK_MS, CLOCK_JUMP_MS, monotonicClockOf, watchClockJumps, type IntervalClock } from './clock-jump.js';

const HOUR = 3_600_000;

function watching(clock = new LaptopClock()) {
  const jumps: number[] = [];
  const stop = watchClockJumps(clock, (drift) => jumps.push(drift));
  return { clock, jumps, stop };
}

test('a sleep longer than the threshold is noticed at the first check after waking, once, with how far the wall clock moved', () => {
  const { clock, jumps, stop } = watching();
  clock.run(CLOCK_CHECK_MS * 2);
  clock.sleep(HOUR);
  clock.run(CLOCK_CHECK_MS);
  assert.deepEqual(jumps, [HOUR]);
  clock.run(CLOCK_CHECK_MS * 4);
  assert.deepEqual(jumps, [HOUR], 'noticed once');
  stop();
});

test('the wall clock set forward or back by more than the threshold is a jump, either way', () => {
  const { clock, jumps, stop } = watching();
  clock.setWall(CLOCK_JUMP_MS + 1_000);
  clock.run(CLOCK_CHECK_MS);
  clock.setWall(-HOUR);
  clock.run(CLOCK_CHECK_MS);
  assert.deepEqual(jumps, [CLOCK_JUMP_MS + 1_000, -HOUR]);
  stop();
});

test('ordinary checks and a small drift (NTP correcting a few seconds) are not jumps', () => {
  const { clock, jumps, stop } = watching();
  for (let i = 0; i < 20; i++) clock.run(CLOCK_CHECK_MS);
  clock.setWall(CLOCK_JUMP_MS - 1_000);
  clock.run(CLOCK_CHECK_MS);
  clock.setWall(-(CLOCK_JUMP_MS - 1_000));
  clock.run(CLOCK_CHECK_MS);
  assert.deepEqual(jumps, []);
  stop();
});

test('a listener that throws does not end the watch', () => {
  const clock = new LaptopClock();
  let calls = 0;
  const stop = watchClockJumps(clock, () => {
    if (++calls === 1) throw new Error('listener failed');
  });
  clock.sleep(HOUR);
  assert.throws(() => clock.run(CLOCK_CHECK_MS), /listener failed/);
  clock.sleep(HOUR);
  clock.run(CLOCK_CHECK_MS);
  assert.equal(calls, 2);
  stop();
});

test('stopped, it leaves no timer behind and notices nothing more', () => {
  const { clock, jumps, stop } = watching();
  assert.equal(clock.pendingTimers(), 1);
  stop();
  assert.equal(clock.pendingTimers(), 0);
  clock.sleep(HOUR);
  clock.run(CLOCK_CHECK_MS * 2);
  assert.deepEqual(jumps, []);
});

test('over a repeating timer (the tray app\'s timer port) it notices a jump the same way, and stopping leaves no interval running', () => {
  const laptop = new LaptopClock();
  const intervals = new Set<() => void>();
  const port: IntervalClock = {
    every(ms, fn) {
      let cancel = laptop.setTimer(ms, function tick() {
        cancel = laptop.setTimer(ms, tick);
        fn();
      });
      const stop = () => {
        cancel();
        intervals.delete(stop);
      };
      intervals.add(stop);
      return stop;
    },
    wallNow: () => laptop.now(),
    monotonicNow: () => laptop.monotonicNow(),
  };
  const jumps: number[] = [];
  const stop = watchClockJumps(monotonicClockOf(port), (drift) => jumps.push(drift));
  laptop.run(CLOCK_CHECK_MS * 3);
  laptop.sleep(HOUR);
  laptop.run(CLOCK_CHECK_MS);
  assert.deepEqual(jumps, [HOUR]);
  assert.equal(intervals.size, 1, 'one interval at a time');
  stop();
  assert.equal(intervals.size, 0);
});
