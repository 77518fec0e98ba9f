/**
 * docs/CODEMAP.md names every folder of the code: each folder under src/ (at any depth) and each top-level folder
 * of scripts/ and tests/ has its line, and every folder the page names exists. A folder added, moved or removed
 * without its line fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const map = readFileSync(join(root, 'docs', 'CODEMAP.md'), 'utf8');

/** Folders below `dir` (repository-relative, with a trailing slash), to `depth` levels (Infinity: all). */
function foldersUnder(dir: string, depth: number): string[] {
  const found: string[] = [];
  const walk = (abs: string, level: number): void => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const child = join(abs, entry.name);
      found.push(`${relative(root, child).split('\\').join('/')}/`);
      if (level < depth) walk(child, level + 1);
    }
  };
  walk(join(root, dir), 1);
  return found.sort();
}

/** Folder paths the map names: `src/...`, `scripts/...` or `tests/...` in backticks, ending with a slash. */
function foldersNamed(): string[] {
  const named = new Set<string>();
  for (const [, path] of map.matchAll(/`((?:src|scripts|tests)\/[\w./-]*\/)`/g)) named.add(path);
  return [...named].sort();
}

const existing = [...foldersUnder('src', Infinity), ...foldersUnder('scripts', 1), ...foldersUnder('tests', 1)];

describe('docs/CODEMAP.md', () => {
  it('finds folders on both sides (the walk and the parse work)', () => {
    expect(existing).toContain('src/search/');
    expect(foldersNamed()).toContain('src/search/');
  });

  it('has a line for every folder under src/ and every top-level folder of scripts/ and tests/', () => {
    const named = new Set(foldersNamed());
    expect(existing.filter((folder) => !named.has(folder))).toEqual([]);
  });

  it('names no folder that does not exist', () => {
    const present = new Set([...foldersUnder('src', Infinity), ...foldersUnder('scripts', Infinity),
      ...foldersUnder('tests', Infinity)]);
    expect(foldersNamed().filter((folder) => !present.has(folder))).toEqual([]);
  });
});
