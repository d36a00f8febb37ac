export declare function tomlProblem(text: string): string | null;
