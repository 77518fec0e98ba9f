/**
 * The worker API as the page and scripts reach it through comlink (./worker.ts): every call's arguments are checked
 * first (./apiArgs.ts, ./collectionToolsArgs.ts, ./debugArgs.ts; a wrong one is refused with an Error that names the
 * method, the argument and what is wrong), then the call waits until the engine has started. A call made while
 * start() runs is held until it is done (photos dropped as the page appears are not lost); one made before start()
 * was called, or after it failed, is refused with the reason. The debug tools pass the same gate.
 */
import type { EngineApi } from '../worker-api/api';
import type { DebugApi } from '../worker-api/debugApi';
import { ENGINE_ARGS } from './apiArgs';
import type { ArgCheck, ArgChecks } from './args';
import { COLLECTION_TOOLS_ARGS } from './collectionToolsArgs';
import { DEBUG_ARGS } from './debugArgs';

const CHECKS: ArgChecks<EngineApi> = { ...ENGINE_ARGS, ...COLLECTION_TOOLS_ARGS };

type Method = (...args: unknown[]) => Promise<unknown>;
type Run = (method: string, call: () => Promise<unknown>) => Promise<unknown>;

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The engine's API and its debug tools with every argument checked and every call after start-up (what worker.ts exposes). */
export function guardApis(engine: EngineApi, debug: DebugApi): { api: EngineApi; debug: DebugApi } {
  /** Settles when start() has: resolved once it succeeded, rejected with the reason once it failed. */
  let started: Promise<void> | null = null;
  const afterStart: Run = (method, call) => {
    if (!started) return Promise.reject(new Error(`${method}: the engine has not been started: call start() first`));
    return started.then(call);
  };
  const startOnce = (call: () => Promise<unknown>) => {
    if (started) return Promise.reject(new Error('start: the engine has been started already (once per worker)'));
    const result = Promise.resolve().then(call);
    started = result.then(
      () => undefined,
      (e: unknown) => Promise.reject(new Error(`the app could not start (${messageOf(e)}): reload the page`)),
    );
    started.catch(() => undefined); // refused to each later call instead
    return result;
  };
  return {
    api: guard(engine, CHECKS, (method, call) => (method === 'start' ? startOnce(call) : afterStart(method, call))),
    debug: guard(debug, DEBUG_ARGS, afterStart),
  };
}

/** An object with `checks`' methods only: each checks its arguments, then `run` decides when the target's method runs. */
function guard<Api extends object>(target: Api, checks: ArgChecks<Api>, run: Run): Api {
  const guarded: Record<string, Method> = {};
  for (const [method, check] of Object.entries(checks) as [string, ArgCheck<unknown[]>][]) {
    // Not async up to `run`: comlink calls methods in the order the page made them, so a call that comes after
    // start() always finds `started` set.
    guarded[method] = (...args: unknown[]) => {
      let checked: unknown[];
      try {
        checked = check(args);
      } catch (e) {
        return Promise.reject(new Error(`${method}: ${messageOf(e)}`));
      }
      return run(method, () => Reflect.apply((target as Record<string, Method>)[method], target, checked) as Promise<unknown>);
    };
  }
  return guarded as unknown as Api;
}
