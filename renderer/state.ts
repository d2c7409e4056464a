/**
 * The window's copy of the agent's state: asked for once, then kept current by `onState` pushes.
 * Nothing here polls; a retry is a person pressing a button.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Failure } from '../electron/shared/api.js';
import type { AppState } from '../electron/shared/ipc.js';
import { getApi, LOST_CONTACT } from './api.js';

export type Connection =
  | { phase: 'loading' }
  | { phase: 'ready'; state: AppState }
  | { phase: 'failed'; error: Failure }
  | { phase: 'no-bridge' };

export function useAppState(): [Connection, () => void] {
  const [connection, setConnection] = useState<Connection>(() => (getApi() ? { phase: 'loading' } : { phase: 'no-bridge' }));
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const api = getApi();
    if (!api) {
      setConnection({ phase: 'no-bridge' });
      return;
    }
    let live = true;
    let pushed = false;
    // Subscribe first so no change between the two is lost; a push is always newer than the answer.
    const unsubscribe = api.onState((state) => {
      if (!live) return;
      pushed = true;
      setConnection({ phase: 'ready', state });
    });
    api
      .getState()
      .then((result) => {
        if (!live || pushed) return;
        setConnection(result.ok ? { phase: 'ready', state: result.value } : { phase: 'failed', error: result.error });
      })
      .catch((err: unknown) => {
        if (!live || pushed) return;
        setConnection({ phase: 'failed', error: { ...LOST_CONTACT, message: `${LOST_CONTACT.message} (${(err as Error)?.message ?? String(err)})` } });
      });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [attempt]);

  const retry = useCallback(() => {
    setConnection(getApi() ? { phase: 'loading' } : { phase: 'no-bridge' });
    setAttempt((n) => n + 1);
  }, []);

  return [connection, retry];
}
