export declare const FRESH_ZEROIA_STATE: string;
export interface RealisticService {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): { code: number; body: Record<string, unknown> };
  cycle(): Promise<void>;
  slowDown(): void;
}
export declare function createRealisticService(o: {
  service: string;
  traits: Set<string>;
  files: Record<string, string>;
  cycleMs: number;
  tearMs?: number;
  log?: (line: string) => void;
  now?: () => Date;
}): RealisticService;
export declare function jsonHeartbeat(text: string): { sequence: number; writtenAt: string | null } | null;
