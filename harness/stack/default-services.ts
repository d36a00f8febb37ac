import type { StackServiceSpec } from './types.ts';

/** The runbook's start order: reflexia, then zeroia and helloria, then assistantia. */
export const DEFAULT_START_ORDER: string[][] = [['reflexia'], ['zeroia', 'helloria'], ['assistantia']];

// Mirrors the volumes of the real docker-compose.yml (shared defaults: ./logs, ./state,
// ./config:ro). Module state is bind-mounted as a *directory* (as compose does for zeroia)
// because an atomic rename over a single-file bind mount fails with EBUSY.
const defaults = [
  { source: 'logs', target: '/app/logs' },
  { source: 'state', target: '/app/state' },
  { source: 'config', target: '/app/config', readOnly: true },
];
const moduleState = (name: string) => ({ source: `modules/${name}/state`, target: `/app/modules/${name}/state` });
const stateFile = (name: string) => `modules/${name}/state/${name}_state.toml`;

/** The four stand-ins. reflexia's state is under modules/ (state/reflexia_state.toml is invalid in the wild). */
export function defaultStackServices(runId: string): StackServiceSpec[] {
  const container = (name: string) => `ark-${runId}-${name}`;
  return [
    {
      name: 'reflexia',
      container: container('reflexia'),
      port: 8002,
      stateFile: stateFile('reflexia'),
      mounts: [moduleState('reflexia'), ...defaults],
    },
    {
      name: 'zeroia',
      container: container('zeroia'),
      port: 8000,
      stateFile: stateFile('zeroia'),
      mounts: [moduleState('zeroia'), ...defaults],
    },
    {
      name: 'helloria',
      container: container('helloria'),
      port: 8000,
      stateFile: stateFile('helloria'),
      mounts: [moduleState('helloria'), ...defaults],
      // Not assistantia: it starts after helloria, which must be healthy before it.
      peers: ['reflexia', 'zeroia'],
    },
    {
      name: 'assistantia',
      container: container('assistantia'),
      port: 8001,
      stateFile: stateFile('assistantia'),
      mounts: [
        moduleState('assistantia'),
        { source: 'logs', target: '/app/logs' },
        { source: 'state', target: '/app/state' },
        { source: 'modules/assistantia/logs', target: '/app/modules/assistantia/logs' },
      ],
    },
  ];
}
