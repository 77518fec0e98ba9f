/**
 * Checking the worker API's arguments where they come in (./boundary.ts): each method's parameters as zod schemas,
 * turned into one check per method that returns the arguments checked (with their defaults) or throws an Error that
 * says in words which argument is wrong and why. The checks of each API group live beside its types: ./apiArgs.ts,
 * ./collectionToolsArgs.ts. Unknown fields of an object are ignored (left out of what the engine gets).
 */
import * as z from 'zod';

/** One method's check: its arguments as received (any values) to its arguments as the engine takes them. */
export type ArgCheck<A extends readonly unknown[]> = (args: readonly unknown[]) => A;

/** A check for every method of an API (a method without one does not compile). */
export type ArgChecks<Api> = { [K in keyof Api]-?: Api[K] extends (...args: infer A) => unknown ? ArgCheck<A> : never };

type Param = readonly [name: string, schema: z.ZodType];
type Outputs<P extends readonly Param[]> = { -readonly [I in keyof P]: z.output<P[I][1]> };

/** The check of a method's parameters, named for the messages, in order. */
export function params<const P extends readonly Param[]>(...spec: P): ArgCheck<Outputs<P>> {
  return (args) =>
    spec.map(([name, schema], i) => {
      const r = schema.safeParse(args[i]);
      if (!r.success) throw new Error(describe(name, r.error));
      return r.data;
    }) as Outputs<P>;
}

/** "request.controls.nc: expected number, received NaN" (the first few problems, each with where it is). */
function describe(name: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const where = name + issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
    })
    .join('; ');
}

// ---- schemas shared by the API groups

/** A photo id (the photo's content hash: PhotoItem.id). */
export const photoId = z.string({ error: 'expected a photo id (a string)' });
export const photoIds = z.array(photoId, { error: 'expected an array of photo ids (strings)' });
/** A whole number from min (default 0). */
export const whole = (min = 0, max = Number.MAX_SAFE_INTEGER) => z.int({ error: 'expected a whole number' }).min(min).max(max);
export const finite = z.number({ error: 'expected a finite number' });
export const blob = z.instanceof(Blob, { error: 'expected a Blob or File' });
export const file = z.instanceof(File, { error: 'expected a File' });
/** An options object that may be left out. */
export const optionsOf = <S extends z.ZodRawShape>(shape: S) => z.object(shape, { error: 'expected an options object, or nothing' }).optional();
/** A comlink proxy of a function (comlink's `proxy(fn)`): typeof 'function' on this side. */
export const callback = <F>(what: string) => z.custom<F>((v) => typeof v === 'function', { error: `expected a function (${what}, passed through comlink's proxy())` });
/** A method that takes no arguments (any given are ignored). */
export const none: ArgCheck<[]> = () => [];
