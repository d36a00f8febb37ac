export declare const TRAITS: Record<string, string>;
export interface ServiceProfile {
  port: number | null;
  health: string;
  traits: string[];
  files: Record<string, string>;
}
export declare const SERVICES: Record<string, ServiceProfile>;
export declare function traitsFor(service: string, override: string | undefined): Set<string>;
