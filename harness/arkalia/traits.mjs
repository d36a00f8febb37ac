// How each real Arkalia service behaves, as named traits: the one place that says it (the
// README's table is written from this). Read from Arkalia's code at the fixtures' commit
// (see DESIGN.md, "The Arkalia stack"). A stand-in container plays one service: ARK_SERVICE
// picks its row; ARK_TRAITS (comma-separated) replaces the row's traits for a test.

export const TRAITS = {
  'health-ignores-state':
    'its health endpoint answers 200 whatever its state files hold (the real /health reads nothing)',
  'status-always-ok': '/status answers 200, also without reading state (arkalia-api)',
  'in-place-rewrite':
    'rewrites its state file in place every cycle (truncate, then write), not tmp + rename: a kill mid-write tears it',
  'state-backup-copy': 'copies its state file to <name>_backup.toml after every cycle, corruption included',
  'overwrite-corrupt': 'finds its state invalid on a cycle and overwrites it with a fresh one (the damage is lost)',
  'json-in-toml': 'writes JSON into its .toml state file (reflexia)',
  'appends-log': 'appends a line to its log file every cycle (assistantia: logs/assistantia_chat.log)',
  'writes-json': 'rewrites a JSON state file with a plain open("w") every cycle',
  'appends-jsonl': 'appends a JSON line every cycle (cognitive-reactor: state/chronalia/mind_timeline.jsonl)',
  heartbeat: 'carries a monotonic sequence and time in what it writes: how drills measure RPO',
};

/**
 * Per service: the port it listens on inside the container (null: none published, a
 * healthcheck-only service), its health path, its traits, and the files it writes
 * (root-relative; the harness maps them to container paths through the service's mounts).
 */
export const SERVICES = {
  'arkalia-api': { port: 8000, health: '/health', traits: ['health-ignores-state', 'status-always-ok'], files: {} },
  assistantia: {
    port: 8001,
    health: '/api/v1/health',
    traits: ['health-ignores-state', 'appends-log', 'heartbeat'],
    files: { log: 'logs/assistantia_chat.log' },
  },
  reflexia: {
    port: 8002,
    health: '/health',
    traits: ['health-ignores-state', 'json-in-toml', 'heartbeat'],
    files: { state: 'modules/reflexia/state/reflexia_state.toml' },
  },
  zeroia: {
    port: 8000,
    health: '/health',
    traits: ['health-ignores-state', 'in-place-rewrite', 'state-backup-copy', 'overwrite-corrupt', 'heartbeat'],
    files: {
      state: 'modules/zeroia/state/zeroia_state.toml',
      backup: 'modules/zeroia/state/zeroia_state_backup.toml',
    },
  },
  sandozia: {
    port: 8004,
    health: '/health',
    traits: ['health-ignores-state', 'writes-json', 'heartbeat'],
    files: { json: 'state/sandozia/latest_metrics.json' },
  },
  'cognitive-reactor': {
    port: 8003,
    health: '/health',
    traits: ['health-ignores-state', 'writes-json', 'appends-jsonl', 'heartbeat'],
    files: {
      json: 'modules/cognitive_reactor/state/cognitive_state.json',
      jsonl: 'state/chronalia/mind_timeline.jsonl',
    },
  },
};

/** The traits a stand-in runs with: ARK_TRAITS when set, else its row's. Unknown names are an error. */
export function traitsFor(service, override) {
  const row = SERVICES[service];
  const names =
    override === undefined || override === ''
      ? (row?.traits ?? [])
      : override
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
  for (const name of names)
    if (!(name in TRAITS)) throw new Error(`unknown trait "${name}" (known: ${Object.keys(TRAITS).join(', ')})`);
  return new Set(names);
}
