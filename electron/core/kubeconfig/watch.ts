import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Calls `onChange` (debounced) when any of the kubeconfig files changes: written in place (kubectl),
 * replaced by rename (editors, kubectx, us), deleted, or created again. Watching the folders rather than
 * the files is what survives a file that disappears and comes back.
 */
export function watchKubeconfigs(files: string[], onChange: (changed: string[]) => void, debounceMs = 100): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const dir = path.dirname(path.resolve(f));
    if (!byDir.has(dir)) byDir.set(dir, new Set());
    byDir.get(dir)!.add(path.basename(f));
  }
  const watchers: FSWatcher[] = [];
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    timer = undefined;
    const changed = [...pending];
    pending.clear();
    onChange(changed);
  };
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms omit the name; then any change in the folder counts.
        const base = name?.toString();
        if (base && !names.has(base)) return;
        for (const n of base ? [base] : names) pending.add(path.join(dir, n));
        if (!timer) timer = setTimeout(fire, debounceMs);
      });
      w.on('error', () => {});
      watchers.push(w);
    } catch {
      // A folder that does not exist yet (no ~/.kube): nothing to watch until it is created by a write of ours.
    }
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
