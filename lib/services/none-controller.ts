import type { ServiceController } from './service-controller.ts';

/** `--services none`: the operator manages services; we only touch files. */
export const noneController: ServiceController = {
  kind: 'none',
  stop: async () => false,
  start: async () => {},
  waitHealthy: async () => ({ healthy: true, via: 'none', detail: 'services not managed (--services none)' }),
  logsTail: async () => '',
  probe: async () => null,
};
