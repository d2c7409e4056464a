import assert from 'node:assert/strict';
import { test } from 'node:test';
import { profileUrlProblem } from './team.js';

test('an address that is not a URL is refused showing only its display form (it may hold a password or a token)', () => {
  const problem = profileUrlProblem('http://user:hunter2@[bad/team.yaml?sig=SECRET');
  assert.ok(problem);
  assert.equal(problem, 'The profile address http://[bad/team.yaml is not a URL: give an https:// address or a file path.');
  for (const secret of ['hunter2', 'SECRET', 'user']) assert.ok(!problem.includes(secret), `${secret} is not in: ${problem}`);
});

test('an address with a user name or password is refused, naming only its origin and path', () => {
  for (const url of ['https://user:hunter2@example.com/team.yaml?sig=SECRET', 'http://user@127.0.0.1:8000/team.yaml', 'https://:hunter2@example.com/team.yaml']) {
    const problem = profileUrlProblem(url);
    assert.ok(problem, url);
    assert.match(problem, /carries a user name or password/);
    for (const secret of ['hunter2', 'SECRET', 'user@']) assert.ok(!problem.includes(secret), `${secret} is not in: ${problem}`);
  }
  assert.equal(profileUrlProblem('https://example.com/team.yaml?sig=abc'), undefined);
});
