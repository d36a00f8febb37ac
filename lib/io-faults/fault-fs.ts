import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { constants } from 'node:os';
import { resolve } from 'node:path';

// A test-only shim of node:fs: every call whose path (or file descriptor, or FileHandle) lies
// under one of the scopes is counted, and the n-th can be failed with a chosen errno. It
// patches the `node:fs` and `node:fs/promises` module objects and republishes them to every
// ES module's named imports (module.syncBuiltinESMExports), so it reaches our code, node-tar
// and Node's own streams (they call the public fs functions) without any production code
// being written against a seam. Calls in other threads (worker pools) are not seen.

export type FaultCode = 'ENOSPC' | 'EIO' | 'EACCES' | 'EROFS';

export interface IoCall {
  /** 1-based, in call order, over every in-scope call. */
  index: number;
  op: string;
  path: string;
  /** Allocates space or changes the tree: where ENOSPC, EACCES and EROFS can happen. */
  writes: boolean;
}

export interface FaultPlan {
  code: FaultCode;
  /** Fail the n-th eligible call (1-based): every call for EIO, writing calls for the others. */
  nth: number;
  /** Keep failing every later eligible call too (a full disk stays full; EIO is a one-off). */
  persistent?: boolean;
}

export const isPersistent = (code: FaultCode): boolean => code !== 'EIO';

/** Calls that may allocate space or change a name: the others only read. */
const WRITES = new Set([
  'appendFile',
  'chmod',
  'chown',
  'copyFile',
  'cp',
  'fchmod',
  'fdatasync',
  'fsync',
  'ftruncate',
  'futimes',
  'datasync',
  'sync',
  'lchown',
  'link',
  'lutimes',
  'mkdir',
  'mkdtemp',
  'rename',
  'rm',
  'rmdir',
  'symlink',
  'truncate',
  'unlink',
  'utimes',
  'write',
  'writeFile',
  'writev',
]);
/** Writing calls that free or re-point space rather than take it: no ENOSPC from these (unlink, rename over a name…). */
const FREES = new Set(['rename', 'rm', 'rmdir', 'unlink', 'chmod', 'fchmod', 'utimes', 'futimes', 'lutimes']);

const PROMISE_FNS = [
  'access',
  'appendFile',
  'chmod',
  'copyFile',
  'cp',
  'link',
  'lstat',
  'lutimes',
  'mkdir',
  'mkdtemp',
  'open',
  'opendir',
  'readdir',
  'readFile',
  'readlink',
  'realpath',
  'rename',
  'rm',
  'rmdir',
  'stat',
  'statfs',
  'symlink',
  'truncate',
  'unlink',
  'utimes',
  'writeFile',
] as const;
const PATH_CALLBACK_FNS = [...PROMISE_FNS.filter((f) => f !== 'open')] as const;
const FD_CALLBACK_FNS = [
  'close',
  'read',
  'write',
  'writev',
  'fsync',
  'fdatasync',
  'fstat',
  'ftruncate',
  'futimes',
  'fchmod',
];
const SYNC_PATH_FNS = [...PATH_CALLBACK_FNS.map((f) => `${f}Sync`)];
const SYNC_FD_FNS = FD_CALLBACK_FNS.map((f) => `${f}Sync`);
const HANDLE_METHODS = [
  'appendFile',
  'chmod',
  'datasync',
  'read',
  'readFile',
  'readv',
  'stat',
  'sync',
  'truncate',
  'utimes',
  'write',
  'writeFile',
  'writev',
];
/** Two paths: both are looked at (a rename out of scope into it counts). */
const TWO_PATHS = new Set(['copyFile', 'cp', 'link', 'rename', 'symlink']);

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Count and fail file-system calls under `scopes`. `install()` patches node:fs, `uninstall()`
 * puts the originals back (always call it: `try/finally`, or the test file's afterEach).
 */
export class FaultFs {
  readonly calls: IoCall[] = [];
  /** The calls that were failed, in order. */
  readonly injected: IoCall[] = [];
  private readonly scopes: string[];
  private plan: FaultPlan | null = null;
  private eligibleSeen = 0;
  private recording = true;
  private readonly fds = new Map<number, string>();
  private readonly handles = new WeakMap<object, string>();
  private readonly restore: (() => void)[] = [];

  /** Open (and close) one FileHandle, so that FileHandle's prototype (not exported) can be patched. */
  static async ready(): Promise<void> {
    if (probe !== null) return;
    const handle = await fsp.open(new URL(import.meta.url), 'r');
    await handle.close();
    probe = handle;
  }

  constructor(scopes: readonly string[]) {
    this.scopes = scopes.map((s) => resolve(s));
  }

  /** Start a fresh count; with a plan, fail the plan's n-th eligible call (and, if persistent, every later one). */
  arm(plan: FaultPlan | null): void {
    this.plan = plan;
    this.eligibleSeen = 0;
    this.calls.length = 0;
    this.injected.length = 0;
    this.recording = true;
  }

  /** Stop counting and failing (the fault is gone: the disk has room again). */
  disarm(): void {
    this.plan = null;
    this.recording = false;
  }

  /** How many calls a plan with this code can fail (from the last run armed with no plan). */
  eligible(code: FaultCode): number {
    return this.calls.filter((c) => eligibleFor(code, c)).length;
  }

  install(): this {
    if (this.restore.length > 0) return this;
    const fsObj = fs as unknown as Record<string, AnyFn>;
    const fspObj = fsp as unknown as Record<string, AnyFn>;
    for (const name of PROMISE_FNS) this.patch(fspObj, name, 'promise', name === 'open');
    for (const name of PATH_CALLBACK_FNS) this.patch(fsObj, name, 'callback', false);
    this.patch(fsObj, 'open', 'callback', true);
    for (const name of FD_CALLBACK_FNS) this.patch(fsObj, name, 'callback-fd', false);
    for (const name of SYNC_PATH_FNS) this.patch(fsObj, name, 'sync', false);
    this.patch(fsObj, 'openSync', 'sync', true);
    for (const name of SYNC_FD_FNS) this.patch(fsObj, name, 'sync-fd', false);
    this.patchHandles();
    syncBuiltinESMExports();
    return this;
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0).reverse()) undo();
    syncBuiltinESMExports();
    this.disarm();
  }

  private inScope(path: unknown): string | null {
    let p: string;
    if (typeof path === 'string') p = path;
    else if (path instanceof URL) p = path.pathname;
    else if (Buffer.isBuffer(path)) p = path.toString();
    else return null;
    const abs = resolve(p);
    return this.scopes.some((s) => abs === s || abs.startsWith(`${s}/`)) ? abs : null;
  }

  /** Count the call; the errno to fail it with, or null. */
  private visit(op: string, path: string, flags?: unknown): NodeJS.ErrnoException | null {
    if (!this.recording) return null;
    const base = op.replace(/Sync$/, '');
    const writes = WRITES.has(base) || (base === 'open' && opensForWriting(flags));
    const call: IoCall = { index: this.calls.length + 1, op, path, writes };
    this.calls.push(call);
    const plan = this.plan;
    if (plan === null || !eligibleFor(plan.code, call)) return null;
    this.eligibleSeen += 1;
    const hit = this.eligibleSeen === plan.nth || ((plan.persistent ?? false) && this.eligibleSeen > plan.nth);
    if (!hit) return null;
    this.injected.push(call);
    return errnoError(plan.code, base, path);
  }

  private patch(
    target: Record<string, AnyFn>,
    name: string,
    style: 'promise' | 'callback' | 'callback-fd' | 'sync' | 'sync-fd',
    opens: boolean,
  ): void {
    const original = target[name];
    if (typeof original !== 'function') return;
    const self = this;
    const pathOf = (args: unknown[]): string | null => {
      if (style === 'callback-fd' || style === 'sync-fd') return self.fds.get(args[0] as number) ?? null;
      return self.inScope(args[0]) ?? (TWO_PATHS.has(name.replace(/Sync$/, '')) ? self.inScope(args[1]) : null);
    };
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const path = pathOf(args);
      if (path === null) return original.apply(this, args);
      const failure = self.visit(name, path, opens ? args[1] : undefined);
      if (style === 'promise') {
        if (failure) return Promise.reject(failure);
        const result = original.apply(this, args) as Promise<unknown>;
        return opens ? result.then((handle) => self.track(handle, path)) : result;
      }
      if (style === 'sync' || style === 'sync-fd') {
        if (failure) throw failure;
        const result = original.apply(this, args);
        if (opens) self.fds.set(result as number, path);
        if (name === 'closeSync') self.fds.delete(args[0] as number);
        return result;
      }
      const cbIndex = args.findLastIndex((a) => typeof a === 'function');
      const callback = args[cbIndex] as AnyFn | undefined;
      if (failure) {
        if (callback) process.nextTick(callback, failure);
        return undefined;
      }
      if (callback && (opens || name === 'close')) {
        args[cbIndex] = (error: unknown, value: unknown) => {
          if (!error && opens) self.fds.set(value as number, path);
          if (name === 'close') self.fds.delete(args[0] as number);
          callback(error, value);
        };
      }
      return original.apply(this, args);
    };
    for (const key of Reflect.ownKeys(original))
      if (key !== 'length' && key !== 'name' && key !== 'prototype')
        Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(original, key)!);
    target[name] = wrapper;
    this.restore.push(() => {
      target[name] = original;
    });
  }

  private track(handle: unknown, path: string): unknown {
    if (handle && typeof handle === 'object') this.handles.set(handle, path);
    return handle;
  }

  private patchHandles(): void {
    const proto = Object.getPrototypeOf(fsHandlePrototypeProbe()) as Record<string, AnyFn>;
    const self = this;
    for (const name of HANDLE_METHODS) {
      const original = proto[name];
      if (typeof original !== 'function') continue;
      proto[name] = function (this: object, ...args: unknown[]): unknown {
        const path = self.handles.get(this);
        if (path === undefined) return original.apply(this, args);
        const failure = self.visit(`handle.${name}`, path);
        return failure ? Promise.reject(failure) : original.apply(this, args);
      };
      this.restore.push(() => {
        proto[name] = original;
      });
    }
  }
}

let probe: object | null = null;
function fsHandlePrototypeProbe(): object {
  if (probe === null) throw new Error('FaultFs: await FaultFs.ready() once before install()');
  return probe;
}

/** Whether a plan with this code can fail the call. */
export function eligibleFor(code: FaultCode, call: IoCall): boolean {
  if (code === 'EIO') return true;
  if (!call.writes) return false;
  return code !== 'ENOSPC' || !FREES.has(call.op.replace(/^handle\./, '').replace(/Sync$/, ''));
}

function opensForWriting(flags: unknown): boolean {
  if (flags === undefined || flags === null) return false;
  if (typeof flags === 'number') {
    const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) !== 0;
  }
  return typeof flags === 'string' && /[wa+]/.test(flags);
}

const MESSAGES: Record<FaultCode, string> = {
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
};

/** An error shaped as Node's own (code, errno, syscall, path). */
export function errnoError(code: FaultCode, syscall: string, path: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${MESSAGES[code]}, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  error.code = code;
  error.errno = -(constants.errno as Record<string, number>)[code]!;
  error.syscall = syscall;
  error.path = path;
  return error;
}
