import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.join(here, 'client');
/** The server `npm run dev` proxies /api and /sync to (start it with `npm start`). */
const devServer = process.env.COLLAB_SERVER ?? 'http://localhost:3000';

/**
 * Emits `sw.js` from client/service-worker.js with the list of built files to precache and a
 * version derived from them (a new build replaces the old cache).
 */
function serviceWorker(): Plugin {
  return {
    name: 'collab-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((file) => !file.endsWith('.map') && !file.endsWith('.html'))
        .map((file) => `/${file}`)
        .sort();
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const template = fs.readFileSync(path.join(clientDir, 'service-worker.js'), 'utf8');
      const source = template.replace("'__VERSION__'", JSON.stringify(version)).replace('__PRECACHE__', JSON.stringify(files));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

/**
 * Copies client/examples/*.html as they are: they load the library build (/lib/collab-editor.js)
 * exactly like another app would, so Vite must not bundle them.
 */
function examples(): Plugin {
  return {
    name: 'collab-examples',
    apply: 'build',
    generateBundle() {
      const dir = path.join(clientDir, 'examples');
      for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.html'))) {
        this.emitFile({ type: 'asset', fileName: `examples/${file}`, source: fs.readFileSync(path.join(dir, file), 'utf8') });
      }
    },
  };
}

// The workspace app. The embeddable library is built by vite.lib.config.ts.
export default defineConfig(({ command }) => ({
  root: clientDir,
  publicDir: false,
  build: {
    outDir: path.join(here, 'dist/client'),
    emptyOutDir: true,
    // Source maps publish the source: only when asked (SOURCEMAP=1 npm run build).
    sourcemap: process.env.SOURCEMAP === '1',
    target: 'es2022',
    rolldownOptions: { input: { main: path.join(clientDir, 'index.html') } },
  },
  resolve: {
    // In development the examples' import of the library build is served from the source.
    alias: command === 'serve' ? [{ find: /^\/lib\/collab-editor\.js$/, replacement: path.join(clientDir, 'embed.ts') }] : [],
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: devServer, changeOrigin: true },
      '/sync': { target: devServer, ws: true, changeOrigin: true },
    },
  },
  plugins: [serviceWorker(), examples()],
}));
