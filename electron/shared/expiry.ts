/**
 * Expiry is decided here and only here: the refresh schedule, the credential's expirationTimestamp, the
 * status output, the tray and the window all read these numbers.
 */
export interface ExpiryPolicy {
  /** Refresh in the background once this little of the ID token's life is left. */
  refreshAheadMs: number;
  /** Never hand out a token with less than this left; refresh first. */
  minHandoutMs: number;
  /** expirationTimestamp given to kubectl is this much before the token's real expiry. */
  credentialMarginMs: number;
  /** Shown as "expiring soon" below this. */
  soonMs: number;
}

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = {
  refreshAheadMs: 5 * 60_000,
  minHandoutMs: 60_000,
  credentialMarginMs: 30_000,
  soonMs: 10 * 60_000,
};

export type ExpiryState = 'valid' | 'refresh-due' | 'expired';

export interface TokenTimes {
  issuedAt: number;
  expiresAt: number;
}

/**
 * The least life a handed-out token has. Pocket ID's one-hour tokens get the full minute; a provider with
 * very short tokens gets half their lifetime, so a fresh token is never refreshed again at once.
 */
export function minHandoutFor(t: TokenTimes, policy: ExpiryPolicy): number {
  return Math.min(policy.minHandoutMs, Math.max(0, t.expiresAt - t.issuedAt) / 2);
}

/** When the background refresh should run: refreshAhead before expiry, and never later than the handout floor. */
export function refreshDueAt(t: TokenTimes, policy: ExpiryPolicy): number {
  const lifetime = Math.max(0, t.expiresAt - t.issuedAt);
  const ahead = Math.min(policy.refreshAheadMs, lifetime / 4);
  return t.expiresAt - Math.max(ahead, minHandoutFor(t, policy));
}

/** Whether a token may be handed out as it is, or must be refreshed first. */
export function canHandOut(t: TokenTimes, now: number, policy: ExpiryPolicy): boolean {
  return t.expiresAt - now >= minHandoutFor(t, policy);
}

/** The expirationTimestamp kubectl gets: kubectl asks again after it, with no margin of its own. */
export function credentialExpiry(t: TokenTimes, policy: ExpiryPolicy): Date {
  return new Date(t.expiresAt - Math.min(policy.credentialMarginMs, minHandoutFor(t, policy) / 2));
}

export function expiryState(t: TokenTimes, now: number, policy: ExpiryPolicy): ExpiryState {
  if (t.expiresAt <= now) return 'expired';
  if (!canHandOut(t, now, policy)) return 'refresh-due';
  return 'valid';
}

/** "in 42 min", "in 59 s", "2 min ago": the words every surface uses. */
export function relativeTime(at: number, now: number): string {
  const diff = at - now;
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) {
    const h = Math.floor(abs / 3_600_000);
    const m = Math.round((abs % 3_600_000) / 60_000);
    text = m ? `${h} h ${m} min` : `${h} h`;
  } else text = `${Math.round(abs / 86_400_000)} days`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}
