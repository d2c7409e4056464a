import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The CLI as one self-contained ESM file: the installed app copies it next to its helper and runs it with
// its own binary as Node, so a machine without Node.js (or an AppImage mounted at a new path) still works.
export default defineConfig({
  build: {
    ssr: 'electron/cli/main.ts',
    outDir: 'dist/cli',
    emptyOutDir: true,
    minify: false,
    target: 'node20',
    rollupOptions: {
      external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      output: { format: 'es', entryFileNames: 'pocketkube-cli.mjs', codeSplitting: false },
    },
  },
  // The bundle is copied away from package.json (~/.pocketkube/bin/), so it carries the version itself.
  define: { __POCKETKUBE_VERSION__: JSON.stringify(version) },
  ssr: { noExternal: true, target: 'node' },
});
