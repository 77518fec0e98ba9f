/**
 * The checks of the debug tools' arguments (src/worker-api/debugApi.ts), applied by ./boundary.ts like EngineApi's.
 */
import * as z from 'zod';
import type { DebugApi } from '../worker-api/debugApi';
import { none, params, photoId, photoIds, whole, type ArgChecks } from './args';

export const DEBUG_ARGS: ArgChecks<DebugApi> = {
  stats: none,
  checkIntegrity: none,
  photo: params(['id', photoId]),
  loseGpuDevice: params(['when', z.enum(['now', 'next-photo'])]),
  failForward: params(['count', whole(0, 1_000_000).optional()]),
  measureBackends: params(['options', z.object({ includeSoftware: z.boolean(), fresh: z.boolean().optional() }, { error: 'expected { includeSoftware: boolean, fresh? }' })]),
  forwardTiming: params(['ids', photoIds], ['options', z.object({ fullSize: z.boolean() }, { error: 'expected { fullSize: boolean }' })]),
};
