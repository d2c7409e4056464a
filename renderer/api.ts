/**
 * The renderer's only way out: `window.pocketkube`, the preload's typed API (electron/shared/ipc.ts).
 * Calls answer `Result<T>`; a call that throws anyway (the IPC channel itself broke) becomes a failure too.
 */
import { useCallback, useState } from 'react';
import type { Failure } from '../electron/shared/api.js';
import type { PocketKubeApi, Result } from '../electron/shared/ipc.js';

declare global {
  interface Window {
    pocketkube?: PocketKubeApi;
  }
}

export function getApi(): PocketKubeApi | undefined {
  return window.pocketkube;
}

export const LOST_CONTACT: Failure = {
  code: 'ipc',
  message: 'The window lost contact with PocketKube.',
};

/** Runs one call and turns a thrown error (not expected: the API answers with data) into a failure. */
export async function call<T>(run: (api: PocketKubeApi) => Promise<Result<T>>): Promise<Result<T>> {
  const api = getApi();
  if (!api) return { ok: false, error: LOST_CONTACT };
  try {
    return await run(api);
  } catch (err) {
    return { ok: false, error: { ...LOST_CONTACT, message: `${LOST_CONTACT.message} (${(err as Error)?.message ?? String(err)})` } };
  }
}

export type ActionState<T> =
  | { status: 'idle' }
  | { status: 'pending' }
  | { status: 'done'; value: T }
  | { status: 'failed'; error: Failure };

/** One button's call: pending while it runs, then its value or its failure, shown where the button is. */
export function useAction<T>(): [ActionState<T>, (run: (api: PocketKubeApi) => Promise<Result<T>>) => Promise<Result<T>>, () => void] {
  const [state, setState] = useState<ActionState<T>>({ status: 'idle' });
  const run = useCallback(async (fn: (api: PocketKubeApi) => Promise<Result<T>>) => {
    setState({ status: 'pending' });
    const result = await call(fn);
    setState(result.ok ? { status: 'done', value: result.value } : { status: 'failed', error: result.error });
    return result;
  }, []);
  const reset = useCallback(() => setState({ status: 'idle' }), []);
  return [state, run, reset];
}
