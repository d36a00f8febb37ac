export type LoadedState =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string; sha256: string }
  | { kind: 'valid'; text: string; bytes: Buffer; sha256: string };
export declare function tomlProblem(text: string): string | null;
export declare function loadState(file: string): Promise<LoadedState>;
export declare function writeStateAtomic(file: string, text: string, unchangedFrom?: Buffer): Promise<boolean>;
