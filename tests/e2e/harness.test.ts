/** The e2e harness itself: skip-or-fail on a missing browser, and a server that is really gone after stop(). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { browserAvailable, startServer } from './harness';

describe('browserAvailable', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('outside CI, a missing Chromium means skip (false, with a warning)', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(browserAvailable('/nonexistent/chromium')).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('SKIPPING the tests that need Chromium at /nonexistent/chromium'));
    warn.mockRestore();
  });

  it('in CI, a missing Chromium fails loudly', () => {
    vi.stubEnv('CI', 'true');
    expect(() => browserAvailable('/nonexistent/chromium')).toThrow(/^CI=true but Chromium at \/nonexistent\/chromium is missing: install it/);
  });
});

describe('startServer', () => {
  it('serves the test pages, and stop() ends the process and frees the port', async () => {
    const server = await startServer();
    const res = await fetch(`${server.url}/tests/browser/golden.html`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('golden.ts');
    await server.stop();
    expect(() => process.kill(server.pid, 0)).toThrow(); // no such process
    await expect(fetch(`${server.url}/`)).rejects.toThrow();
  });
});
