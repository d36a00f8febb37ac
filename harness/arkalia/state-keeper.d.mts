export interface HealthReport {
  code: number;
  body: Record<string, unknown>;
}
export interface StateKeeper {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
}
export declare function createStateKeeper(opts: {
  service: string;
  stateFile: string;
  intervalMs: number;
  now?: () => Date;
  log?: (line: string) => void;
}): StateKeeper;
