// How a scenario run reports as it goes: Allure steps and attachments in the drill test,
// nothing (or a log) elsewhere. The journal is built either way.

export interface DrillHooks {
  /** Run `body` as a named step; a step whose body throws is shown as failed. */
  step<T>(name: string, body: () => Promise<T>): Promise<T>;
  attach(name: string, content: string | Buffer, contentType: string): Promise<void>;
}

export const noHooks: DrillHooks = {
  step: (_name, body) => body(),
  attach: async () => {},
};
