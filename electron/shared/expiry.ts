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

/** Clock differences below this are iat's one-second rounding plus network time: counted as none. */
export const SKEW_NOISE_MS = 5_000;

/**
 * This machine's clock minus the provider's, from a token's `iat` at the moment the token arrived (a fresh
 * token was issued an instant ago). Positive: this clock is ahead.
 */
export function estimateSkew(issuedAt: number, receivedAt: number): number {
  const skew = receivedAt - issuedAt;
  return Math.abs(skew) < SKEW_NOISE_MS ? 0 : skew;
}

/**
 * A token's times as this machine's clock reads them: its lifetime (exp − iat) counted from when it was issued
 * here. Every decision (schedule, hand-out floor, kubectl's expirationTimestamp) uses these, so a clock an hour
 * off Pocket ID's still refreshes once per token, not in a loop.
 */
export function onLocalClock(t: TokenTimes, skewMs: number): TokenTimes {
  return { issuedAt: t.issuedAt + skewMs, expiresAt: t.expiresAt + skewMs };
}

export const RETRY_START_MS = 2_000;
export const RETRY_MAX_MS = 60_000;

/**
 * When a failed background refresh is tried again: doubling from 2 s to 60 s, but never later than a thirtieth
 * of the token's time left, so the last minutes retry every few seconds and an outage's end is noticed at once.
 * `failures` counts failed background attempts only; kubectl's on-demand attempts never lengthen it.
 */
export function retryDelay(failures: number, msLeft: number): number {
  const doubling = Math.min(RETRY_START_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
  if (msLeft <= 0) return doubling;
  return Math.max(RETRY_START_MS, Math.min(doubling, msLeft / 30));
}

/** "57 min ahead of", "12 s behind", "in step with": the words for a clock skew. */
export function skewWords(skewMs: number): string {
  if (Math.abs(skewMs) < SKEW_NOISE_MS) return 'in step with';
  const words = relativeTime(Math.abs(skewMs), 0).replace(/^in /, '');
  return `${words} ${skewMs > 0 ? 'ahead of' : 'behind'}`;
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
