/**
 * Whether the tests run under CI, where a missing real part fails instead of skipping. CI systems set `CI`
 * to `true` or `1`; an empty value, `0` or `false` (any case) means not CI, so `CI=false npm test` is local.
 */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env['CI'] ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}
