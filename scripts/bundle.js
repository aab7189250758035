// dist/bundle/: the compiled dist/ modules bundled by esbuild, with the small pure-JS libraries
// the CLI loads on every start (zod, yaml, ipaddr.js, safe-regex2). Otherwise Node resolves,
// reads and compiles ~250 separate ES modules at each start, which cost ~250 ms of the ~600 ms
// a `replay` of an empty file took (docs/performance.md). Commands still load lazily (code
// splitting keeps cli.ts's dynamic imports), and every other package stays external: fastify,
// kafkajs, pino and the rest load from node_modules as before, only in the commands that use
// them.
//
// Layout rules the bundle keeps (test/cli/bundle.test.ts runs it): modules that find files
// relative to themselves sit two levels under the package root, as in dist/ (PACKAGE_ROOT);
// the ingest thread is an entry beside cli.js (new URL('./ingest-thread.js', import.meta.url));
// the migrations are copied next to the chunks (new URL('./migrations/', import.meta.url)).
// With no bundle (esbuild missing, or it failed) bin/authwatch.js runs dist/cli.js: the same
// code, slower to start.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const BUNDLED_PACKAGES = new Set(['zod', 'yaml', 'ipaddr.js', 'safe-regex2']);

/**
 * Bundles ROOT/dist into ROOT/dist/bundle. Never throws: on any problem it removes the partial
 * bundle, says why through `say`, and returns a note for the build's summary line.
 * @param {string} root package root (with package.json and a compiled dist/)
 * @param {(s: string) => void} say
 * @returns {Promise<string>}
 */
export async function bundleDist(root, say) {
  const bundleDir = join(root, 'dist', 'bundle');
  rmSync(bundleDir, { recursive: true, force: true });
  try {
    const esbuild = await import('esbuild');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((n) => !BUNDLED_PACKAGES.has(n));
    const t0 = Date.now();
    await esbuild.build({
      entryPoints: { cli: join(root, 'dist', 'cli.js'), 'ingest-thread': join(root, 'dist', 'parallel', 'ingest-thread.js') },
      outdir: bundleDir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external,
      sourcemap: 'linked',
      logLevel: 'warning',
      // the bundled CommonJS library (safe-regex2) calls require(); ESM output has none of its own
      banner: { js: "import { createRequire as __awCreateRequire } from 'node:module'; const require = __awCreateRequire(import.meta.url);" },
    });
    const migrations = join(root, 'dist', 'store', 'migrations');
    mkdirSync(join(bundleDir, 'migrations'));
    for (const e of readdirSync(migrations, { withFileTypes: true })) if (e.isFile()) copyFileSync(join(migrations, e.name), join(bundleDir, 'migrations', e.name));
    return `bundle in ${Date.now() - t0} ms`;
  } catch (err) {
    rmSync(bundleDir, { recursive: true, force: true });
    say(`dist/bundle/ not built (${String(err?.message ?? err).split('\n')[0]}); bin/authwatch.js runs dist/cli.js`);
    return 'no bundle';
  }
}
