/**
 * The worker API as the page and scripts reach it through comlink (./worker.ts): every call's arguments are checked
 * first (./apiArgs.ts, ./collectionToolsArgs.ts; a wrong one is refused with an Error that names the method, the
 * argument and what is wrong), then the call waits until the engine has started. A call made while start() runs is
 * held until it is done (photos dropped as the page appears are not lost); one made before start() was called, or
 * after it failed, is refused with the reason.
 */
import type { EngineApi } from '../worker-api/api';
import { ENGINE_ARGS } from './apiArgs';
import type { ArgCheck, ArgChecks } from './args';
import { COLLECTION_TOOLS_ARGS } from './collectionToolsArgs';

const CHECKS: ArgChecks<EngineApi> = { ...ENGINE_ARGS, ...COLLECTION_TOOLS_ARGS };

type Method = (...args: unknown[]) => Promise<unknown>;

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The engine's API with every argument checked and every call after start-up (what worker.ts exposes). */
export function guardApi(engine: EngineApi): EngineApi {
  /** Settles when start() has: resolved once it succeeded, rejected with the reason once it failed. */
  let started: Promise<void> | null = null;
  const api: Record<string, Method> = {};
  for (const [method, check] of Object.entries(CHECKS) as [keyof EngineApi, ArgCheck<unknown[]>][]) {
    // Not async up to the start check: comlink calls methods in the order the page made them, so a call that
    // comes after start() always finds `started` set.
    api[method] = (...args: unknown[]) => {
      let checked: unknown[];
      try {
        checked = check(args);
      } catch (e) {
        return Promise.reject(new Error(`${method}: ${messageOf(e)}`));
      }
      const call = () => Reflect.apply(engine[method] as Method, engine, checked) as Promise<unknown>;
      if (method === 'start') {
        if (started) return Promise.reject(new Error('start: the engine has been started already (once per worker)'));
        const result = Promise.resolve().then(call);
        started = result.then(
          () => undefined,
          (e: unknown) => Promise.reject(new Error(`the app could not start (${messageOf(e)}): reload the page`)),
        );
        started.catch(() => undefined); // refused to each later call instead
        return result;
      }
      if (!started) return Promise.reject(new Error(`${method}: the engine has not been started: call start() first`));
      return started.then(call);
    };
  }
  return api as unknown as EngineApi;
}
