export declare const HEARTBEAT_MARKER: string;
export interface Heartbeat {
  sequence: number;
  writtenAt: string | null;
}
export declare function stripHeartbeat(text: string): string;
export declare function readHeartbeat(text: string): Heartbeat | null;
export declare function withHeartbeat(
  text: string,
  beat: { service: string; sequence: number; writtenAt: string },
): string;
