import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The window's renderer: a plain web page Electron loads from file://, hence relative asset paths (base './').
// JSX goes through Vite's own transform (no React plugin needed: the window has no dev server to hot-reload).
export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: true,
    // Electron's CSP forbids inline scripts; keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
