export interface StackServiceSpec {
  /** 'reflexia' | 'zeroia' | 'helloria' | 'assistantia'; also its alias on the stack network. */
  name: string;
  /** Docker container name, e.g. `ark-${runId}-zeroia`. */
  container: string;
  /** Port inside the container. */
  port: number;
  /** Path relative to the Arkalia root, e.g. 'modules/zeroia/state/zeroia_state.toml'. */
  stateFile: string;
  /** source relative to the root, target absolute in the container. */
  mounts: { source: string; target: string; readOnly?: boolean }[];
  /** Service names this one aggregates on /status (helloria). */
  peers?: string[];
}

export interface StackOptions {
  root: string;
  services: StackServiceSpec[];
  /** Start groups, in order; the services of a group start in parallel. */
  order: string[][];
  runId: string;
  /** Defaults to buildStandInImage() (ARK_IMAGE or the offline stand-in). */
  image?: string;
  writeIntervalMs?: number;
  /** Per service, from container start to healthy. */
  startTimeoutMs?: number;
}

export interface HealthAnswer {
  /** HTTP status, or 0 when the service is unreachable (stopped, refused, timed out). */
  status: number;
  body: any;
}

export interface ArkaliaStack {
  runId: string;
  root: string;
  containerName(service: string): string;
  /** Resolves the CURRENT mapped host port (docker inspect) on every call. */
  url(service: string, path?: string): Promise<string>;
  /** Never throws for 503 or a refused connection. */
  health(service: string): Promise<HealthAnswer>;
  logs(service: string, tail?: number): Promise<string>;
  /** Idempotent; removes every container and the network of this run, however they were left. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
