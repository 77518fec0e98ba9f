/**
 * A scenario in steps: each step is its own test, whose name says what it checks, run in order on what the steps
 * before it left (the same page, the same collection), so each failure is reported by itself. Once a step fails,
 * the later ones are skipped, with the failed step's name, instead of failing for a reason that is not theirs.
 *
 *   describe.sequential('app: ...', () => {
 *     const e2e = useE2E(...);
 *     const step = steps();
 *     let page: Page;
 *     step('opens ready', async () => { page = (await e2e.openPage('/...')).page; ... });
 *     step('imports the photos', async () => { ... }, 300_000);
 *   });
 */
import { it } from 'vitest';

export function steps(): (name: string, run: () => Promise<void>, timeoutMs?: number) => void {
  let failed: string | null = null;
  return (name, run, timeoutMs) =>
    it(
      name,
      async (context) => {
        if (failed) context.skip(`skipped: the earlier step "${failed}" failed`);
        // A timeout or a failed assertion alike (the hook runs for either).
        context.onTestFailed(() => {
          failed ??= name;
        });
        await run();
      },
      timeoutMs,
    );
}
