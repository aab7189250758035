// Is dist/ a build of the source as it is now? bin/authwatch.js asks this at every start
// (it runs dist/cli.js only then, else src/ through tsx), and scripts/build.js writes the
// stamp it compares against. Plain JS so it runs before any compiler is loaded.
//
// The fingerprint lists every entry under src/ (files AND directories: adding, removing or
// renaming a file changes its directory) and the tsconfig files with size, mtime and ctime;
// dist/ is fresh only when the list is exactly the one the build recorded. ctime matters
// because cp -p, touch -d or an archive can set an mtime back, but nothing sets ctime back.
// The one change it cannot see: a same-size rewrite of a file within the same kernel clock
// tick (a few ms) as that file's previous write, with the build starting in between.
// Cost: one readdir per directory and one stat per entry (~130 under src/), a few ms cold.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';

export const STAMP_FILE = '.build-stamp.json';
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json'];

/** @param {string} root package root @returns {string} one line per entry */
export function sourceFingerprint(root) {
  let out = '';
  const entry = (rel) => {
    const st = statSync(root + '/' + rel, { throwIfNoEntry: false });
    if (st) out += `${rel}\t${st.size}\t${st.mtimeMs}\t${st.ctimeMs}\n`;
    return st;
  };
  const walk = (rel) => {
    entry(rel);
    // readdir order is stable while a directory is unchanged (and a change makes it stale anyway)
    for (const e of readdirSync(root + '/' + rel, { withFileTypes: true })) {
      if (e.isDirectory()) walk(rel + '/' + e.name);
      else entry(rel + '/' + e.name);
    }
  };
  walk('src');
  for (const f of BUILD_INPUTS) entry(f);
  return out;
}

/**
 * True when dist/cli.js exists and nothing under src/ changed since the build fingerprinted
 * it (the build fingerprints BEFORE compiling, so an edit during the build counts as a
 * change). Any doubt (no stamp, unreadable stamp) means "not fresh": the caller then runs the
 * sources themselves, which is always correct, only slower to start.
 * @param {string} root package root
 */
export function distIsFresh(root) {
  try {
    const stamp = JSON.parse(readFileSync(root + '/dist/' + STAMP_FILE, 'utf8'));
    if (!existsSync(root + '/dist/cli.js')) return false;
    if (!existsSync(root + '/src')) return true; // an installed package without sources: dist is all there is
    return typeof stamp.fingerprint === 'string' && stamp.fingerprint === sourceFingerprint(root);
  } catch {
    return false;
  }
}
