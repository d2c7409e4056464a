import { defineConfig } from 'vite';

// The preload as one CommonJS file with `electron` left external: sandboxed preloads cannot load modules.
export default defineConfig({
  build: {
    outDir: 'dist/preload',
    emptyOutDir: true,
    minify: false,
    sourcemap: true,
    lib: { entry: 'electron/desktop/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
