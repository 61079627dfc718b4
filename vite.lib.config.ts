import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The embeddable editor in library mode: one self-contained ES module (Yjs, ProseMirror,
 * y-prosemirror and the styles bundled) at dist/client/lib/collab-editor.js, served by the
 * server at /lib/collab-editor.js. Runs after the app build (which empties dist/client).
 */
export default defineConfig({
  root: path.join(here, 'client'),
  publicDir: false,
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: path.join(here, 'dist/client/lib'),
    emptyOutDir: true,
    // Source maps publish the source: only when asked (SOURCEMAP=1 npm run build).
    sourcemap: process.env.SOURCEMAP === '1',
    target: 'es2022',
    // Served to browsers as is (not re-bundled by the host app), so minify fully.
    minify: true,
    lib: {
      entry: path.join(here, 'client/embed.ts'),
      formats: ['es'],
      fileName: () => 'collab-editor.js',
    },
  },
});
