/** One service of a running stack, as the drill handle looks it up. */
export interface StackServiceSpec {
  /** The compose service name (zeroia, arkalia-api, ...). */
  name: string;
  /** Docker container name, e.g. `ark-${runId}-zeroia`. */
  container: string;
  /** Port inside the container. */
  port: number;
  /** source relative to the root, target absolute in the container. */
  mounts: { source: string; target: string; readOnly?: boolean }[];
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
