// The Elements apps' bundles (lib/elements-app.jsx, lib/elements-consent-app.jsx), built with esbuild. `run.sh` builds
// them once per run, in its preparation, into a folder it names in GATEHOUSE_E2E_BUNDLES (`node lib/bundle.mjs <folder>`),
// and the Elements files read them from there; a file run on its own builds its bundle in memory.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const entries = ['elements-app.jsx', 'elements-consent-app.jsx'];
const names = ['/app.css', '/app.js'];

/** An app's bundle and stylesheet built in memory: { '/app.js': bytes, '/app.css': bytes }. */
async function buildApp(entry) {
  const result = await build({
    entryPoints: [path.join(here, entry)],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true,
    outdir: 'out', // names the outputs (<entry>.js, <entry>.css); nothing is written
    write: false,
    logLevel: 'error',
  });
  const files = Object.fromEntries(result.outputFiles.map((f) => [`/app${path.extname(f.path)}`, f.contents]));
  assert.deepEqual(Object.keys(files).sort(), names);
  return files;
}

/** An Elements app's bundle and stylesheet (`entry` is a JSX file in lib/): from GATEHOUSE_E2E_BUNDLES, else built. */
export async function bundleApp(entry) {
  const folder = process.env.GATEHOUSE_E2E_BUNDLES;
  if (!folder) return buildApp(entry);
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(path.join(folder, entry, n.slice(1)))])));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const folder = process.argv[2];
  assert.ok(folder, 'usage: node lib/bundle.mjs <folder>');
  for (const entry of entries) {
    const files = await buildApp(entry);
    const dir = path.join(folder, entry);
    await mkdir(dir, { recursive: true });
    for (const [n, bytes] of Object.entries(files)) {
      // Written aside and renamed, so a reader never sees half a file.
      await writeFile(path.join(dir, `${n.slice(1)}.tmp`), bytes);
      await rename(path.join(dir, `${n.slice(1)}.tmp`), path.join(dir, n.slice(1)));
    }
  }
}
