/** The skip-or-fail rule of tests/helpers/requirements.ts, and the CW_SHARED_DIR override of sharedDir(). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedDir } from '../../scripts/lib/node';
import { inCI, needs, needsDevSet } from '../helpers/requirements';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('needs', () => {
  it('is true, silently, when the thing is there, in CI or not', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    for (const ci of ['', 'true']) {
      vi.stubEnv('CI', ci);
      expect(needs('a thing', true, 'unused')).toBe(true);
    }
    expect(warn).not.toHaveBeenCalled();
  });

  it('outside CI, a missing thing means skip: false, and a warning with the reason', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(needs('the photos', false, 'no folder x')).toBe(false);
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0][0]).toMatch(/SKIPPING the tests that need the photos: it is missing: no folder x/);
  });

  it('under CI, a missing thing throws with the reason', () => {
    vi.stubEnv('CI', 'true');
    expect(() => needs('the photos', false, 'no folder x')).toThrow('CI=true but the photos is missing: no folder x');
  });

  it('CI is on for any value but empty, 0 or false', () => {
    for (const [v, on] of [['true', true], ['1', true], ['yes', true], ['', false], ['0', false], ['false', false], ['FALSE', false]] as const) {
      vi.stubEnv('CI', v);
      expect(inCI(), `CI=${v}`).toBe(on);
    }
  });
});

describe('the shared folder', () => {
  it('CW_SHARED_DIR replaces ../shared: a folder without the dev set is missing, one with it is found', () => {
    const root = mkdtempSync(join(tmpdir(), 'cw-shared-'));
    vi.stubEnv('CW_SHARED_DIR', join(root, 'absent'));
    expect(sharedDir()).toBeNull();
    vi.stubEnv('CI', 'true');
    expect(() => needsDevSet()).toThrow(/^CI=true but \.\.\/shared\/data\/paris6k-mini-dev is missing: there is no .*absent\/data\/paris6k-mini-dev\/MANIFEST\.json/);
    vi.stubEnv('CI', '');
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(needsDevSet()).toBeNull();

    const dev = join(root, 'present', 'data', 'paris6k-mini-dev');
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'MANIFEST.json'), '{}');
    vi.stubEnv('CW_SHARED_DIR', join(root, 'present'));
    expect(sharedDir()).toBe(join(root, 'present'));
    vi.stubEnv('CI', 'true');
    expect(needsDevSet()).toBe(dev);
  });
});
