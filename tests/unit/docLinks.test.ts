/**
 * Every relative link in the repository's Markdown files points at a file that exists, and a link to a heading of
 * another Markdown file (`FILE.md#heading`, or `#heading` in the same file) points at a heading that exists
 * (GitHub's anchor rule). Links inside code blocks and inline code are not links; web addresses are not checked.
 * And every path of the code named in inline code (`src/...`, `scripts/...`, `tests/...`) exists, so a file moved or
 * renamed without its docs fails here; docs/history/ and CHANGELOG.md describe the past and are left out of that.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const skipped = new Set(['node_modules', 'public', 'dist', 'test-results', 'coverage']);

function markdownFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || skipped.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...markdownFiles(path));
    else if (entry.name.endsWith('.md')) files.push(path);
  }
  return files;
}

function withoutCodeBlocks(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** The text without fenced code blocks and inline code. */
function prose(text: string): string {
  return withoutCodeBlocks(text).replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of withoutCodeBlocks(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** [text](target) and ![alt](target), target without its optional "title". */
function links(text: string): string[] {
  return [...prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(([, target]) => target);
}

const files = markdownFiles(root);

describe('links in the Markdown files', () => {
  it('finds the Markdown files and their links', () => {
    expect(files.map((file) => relative(root, file))).toContain('README.md');
    expect(links(readFileSync(join(root, 'README.md'), 'utf8')).length).toBeGreaterThan(0);
    expect(anchors('## Set up and run\n## `npm run eval:all`: one table\n## Set up and run')).toEqual(
      new Set(['set-up-and-run', 'npm-run-evalall-one-table', 'set-up-and-run-1']),
    );
  });

  it.each(files.map((file) => [relative(root, file), file]))('%s: every relative link resolves', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const broken: string[] = [];
    for (const target of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
      const [path, fragment] = target.split('#', 2);
      const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(destination)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (fragment && destination.endsWith('.md') && !anchors(readFileSync(destination, 'utf8')).has(fragment)) {
        broken.push(`${target}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  const current = files.filter((file) => !/(^|\/)(docs\/history\/|CHANGELOG\.md$)/.test(relative(root, file).split('\\').join('/')));

  it.each(current.map((file) => [relative(root, file), file]))('%s: every code path it names exists', (_name, file) => {
    const text = withoutCodeBlocks(readFileSync(file, 'utf8'));
    const missing = [...text.matchAll(/`((?:src|scripts|tests)\/[\w./-]+)`/g)]
      .map(([, path]) => path)
      .filter((path) => !existsSync(join(root, path)));
    expect([...new Set(missing)]).toEqual([]);
  });
});
