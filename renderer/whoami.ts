/**
 * Puts what the cluster says you are (SelfSubjectReview) next to what your ID token says, so a prefix that
 * differs between the API server's config and the RBAC bindings stands out.
 */
import type { WhoAmI } from '../electron/shared/talos.js';

export interface GroupRow {
  /** The group as the ID token carries it. */
  token: string;
  /** What RBAC bindings made by PocketKube expect the cluster to call it. */
  expected: string;
  /** What the cluster actually calls it, when it has it under any prefix. */
  seenAs?: string;
  verdict: 'match' | 'prefix' | 'missing';
}

export interface Comparison {
  rows: GroupRow[];
  /** Groups the cluster adds on its own (system:authenticated) or that do not come from the token. */
  others: string[];
  username: { seen: string; expected?: string; verdict: 'match' | 'prefix' | 'other' };
  /** The prefix the cluster really uses, when it can be told from a group or the username. */
  actualPrefix?: string;
  mismatch: boolean;
}

export function compareWhoami(
  who: WhoAmI,
  token: { groups: string[]; sub?: string; email?: string },
  expect: { groupsPrefix: string; usernamePrefix: string; usernameClaim: 'sub' | 'email' },
): Comparison {
  const used = new Set<string>();
  let actualPrefix: string | undefined;
  const rows = token.groups.map((g): GroupRow => {
    const expected = `${expect.groupsPrefix}${g}`;
    if (who.groups.includes(expected)) {
      used.add(expected);
      return { token: g, expected, seenAs: expected, verdict: 'match' };
    }
    const seenAs = who.groups.find((cg) => cg.endsWith(g) && !used.has(cg));
    if (seenAs !== undefined) {
      used.add(seenAs);
      actualPrefix ??= seenAs.slice(0, seenAs.length - g.length);
      return { token: g, expected, seenAs, verdict: 'prefix' };
    }
    return { token: g, expected, verdict: 'missing' };
  });
  const claimValue = expect.usernameClaim === 'email' ? token.email : token.sub;
  const expectedUser = claimValue !== undefined ? `${expect.usernamePrefix}${claimValue}` : undefined;
  const username: Comparison['username'] =
    expectedUser === undefined || who.username === expectedUser
      ? { seen: who.username, expected: expectedUser, verdict: expectedUser === undefined ? 'other' : 'match' }
      : claimValue && who.username.endsWith(claimValue)
        ? { seen: who.username, expected: expectedUser, verdict: 'prefix' }
        : { seen: who.username, expected: expectedUser, verdict: 'other' };
  if (username.verdict === 'prefix' && claimValue) actualPrefix ??= who.username.slice(0, who.username.length - claimValue.length);
  return {
    rows,
    others: who.groups.filter((g) => !used.has(g)),
    username,
    actualPrefix,
    mismatch: rows.some((r) => r.verdict !== 'match') || username.verdict !== 'match',
  };
}
