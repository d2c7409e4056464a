/** Words and numbers as the window shows them. Pure functions: no React, no clock of their own. */

/** A date and time in the user's locale, e.g. "Nov 28, 2026, 6:37 PM". */
export function formatDateTime(at: string | number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatTime(at: string | number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return d.toLocaleTimeString(undefined, { timeStyle: 'short' });
}

/** 59:59, 1:05:00: a countdown clock face. */
export function clockFace(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** Claims that hold a NumericDate (seconds since the epoch), shown as dates. */
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at', 'pwd_exp']);

export function claimTime(name: string, value: unknown): number | undefined {
  if (!TIME_CLAIMS.has(name) || typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return value * 1000;
}

/** What each standard claim means, for the claims table. */
export const CLAIM_MEANING: Record<string, string> = {
  iss: 'Issuer: the Pocket ID that signed the token',
  sub: 'Subject: your permanent user id',
  aud: 'Audience: the client id the token is for',
  exp: 'Expires',
  iat: 'Issued',
  nbf: 'Not valid before',
  auth_time: 'When you last signed in with your passkey',
  nonce: 'Sign-in nonce',
  name: 'Name',
  given_name: 'Given name',
  family_name: 'Family name',
  preferred_username: 'Username',
  email: 'Email',
  email_verified: 'Email verified',
  picture: 'Picture',
  groups: 'Groups',
  at_hash: 'Access token hash',
  updated_at: 'Profile updated',
};

/** Anything shaped like a JWT (or its base64url JSON header) is never shown, wherever it comes from. */
const TOKEN_LIKE = /eyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
export const HIDDEN_TOKEN = '[token hidden]';

export function redactText(text: string): string {
  return text.replace(TOKEN_LIKE, HIDDEN_TOKEN);
}

export function redact<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redact(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)])) as T;
  }
  return value;
}

export function initials(name: string): string {
  const words = name
    .replace(/@.*$/, '')
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0]![0], words[words.length - 1]![0]] : [...(words[0] ?? '?')].slice(0, 2);
  return letters.join('').toUpperCase();
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
