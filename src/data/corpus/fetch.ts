// Fetching source packages into a cache: npm packages with `npm pack`,
// Debian packages with `apt-get download` + `dpkg -x` (neither needs root).
// A fetched package is unpacked once; later builds reuse the cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type PackageRef = { npm: string } | { deb: string };

/** Default cache: $XDG_CACHE_HOME/tttnn/sources or ~/.cache/tttnn/sources. */
export function defaultCacheDir(): string {
  return join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tttnn', 'sources');
}

function run(command: string, args: string[], cwd: string): void {
  try {
    execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n').filter(Boolean).slice(-3).join(' ');
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

/**
 * The unpacked root of a package, fetching it into `cacheDir` if needed:
 * npm packages unpack to <dir>/package, Debian packages to <dir>/root.
 */
export function fetchPackage(ref: PackageRef, cacheDir: string): string {
  const [kind, name] = 'npm' in ref ? ['npm', ref.npm] : ['deb', ref.deb];
  const dir = join(cacheDir, kind, name.replace(/[^A-Za-z0-9._-]+/g, '_'));
  const root = join(dir, kind === 'npm' ? 'package' : 'root');
  if (existsSync(join(dir, '.complete'))) return root;
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    if (kind === 'npm') {
      run('npm', ['pack', name], staging);
      const tarball = readdirSync(staging).find((f) => f.endsWith('.tgz'));
      if (!tarball) throw new Error(`npm pack ${name} produced no tarball`);
      run('tar', ['xzf', tarball], staging);
      rmSync(join(staging, tarball));
    } else {
      run('apt-get', ['download', name], staging);
      const deb = readdirSync(staging).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${name} produced no .deb`);
      run('dpkg', ['-x', deb, 'root'], staging);
      rmSync(join(staging, deb));
    }
    writeFileSync(join(staging, '.complete'), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return root;
}
