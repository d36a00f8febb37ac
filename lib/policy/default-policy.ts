// The runbook's data table ("Données Critiques Identifiées") and its bash routines, as data.
// This is the built-in policy; ark.policy.toml in the Arkalia root or --policy FILE override it.

export const DEFAULT_POLICY = {
  version: 1,
  datasets: {
    // États IA — modules/*/state/*.toml — CRITIQUE — temps réel
    states: {
      paths: ['modules/*/state/', 'state/', 'global_state/'],
      archive: 'states',
      frequency: 'realtime',
      criticality: 'critical',
    },
    // Configurations — config/*.toml, .env — CRITIQUE — 6h
    configs: { paths: ['config/', '.env'], archive: 'states', frequency: 'PT6H', criticality: 'critical' },
    // Logs audit — logs/*.log — ÉLEVÉE — 12h
    logs: { paths: ['logs/', 'modules/*/logs/'], archive: 'logs', frequency: 'PT12H', criticality: 'high' },
    // Modèles LLM — /var/lib/ollama/models/ — ÉLEVÉE — 24h
    models: { paths: ['/var/lib/ollama/models/'], archive: 'models', frequency: 'P1D', criticality: 'high' },
    // Docker configuration and scripts (runbook step 4), plus version.toml and the policy itself.
    infra: {
      paths: [
        'docker-compose.yml',
        'Dockerfile*',
        'scripts/',
        '.github/',
        'requirements.txt',
        'pyproject.toml',
        'version.toml',
        'ark.policy.toml',
      ],
      archive: 'infra',
      frequency: 'P1D',
      criticality: 'medium',
    },
    // Base de données — States JSON/TOML — CRITIQUE — 1h (held in the states archive)
    database: {
      paths: ['state/*.json', 'modules/*/state/*.json'],
      archive: 'states',
      frequency: 'PT1H',
      criticality: 'critical',
    },
  },
  archives: {
    states: { prefix: 'arkalia_states', sensitive: true, offsite: true, gzip_level: 6, compression: 'gzip' },
    // Logs at gzip -4, not the runbook's -6: half the CPU of the backup's largest deflate for a
    // logs archive ~6% larger (npm run bench measures both); set gzip_level = 6 to trade back.
    logs: { prefix: 'arkalia_logs', sensitive: false, offsite: false, gzip_level: 4, compression: 'gzip' },
    models: { prefix: 'ollama_models', sensitive: false, offsite: false, gzip_level: 1, compression: 'gzip' },
    infra: { prefix: 'arkalia_infra', sensitive: false, offsite: false, gzip_level: 6, compression: 'gzip' },
  },
  realtime: { paths: ['modules/*/state/*.toml', 'state/*.toml', 'global_state/*.toml'], keep: 'P7D' },
  validation: { toml: ['modules/*/state/*.toml', 'state/*.toml', 'global_state/*.toml', 'config/*.toml'] },
  retention: { daily_days: 30 },
  schedule: { full: 'P1D' },
  // The services, their containers, start order and health come from the root's
  // docker-compose.yml (Arkalia's has six: arkalia-api = helloria, assistantia, reflexia,
  // zeroia, sandozia, cognitive-reactor); [services] and start_order override it.
  compose: { file: 'docker-compose.yml', enabled: true },
  services: {},
  start_order: [],
  // Runbook, end of ark_disaster_recovery.sh: curl -f http://localhost:8000/status (helloria,
  // the compose file's arkalia-api). Checked when that service exists; set [api] for another.
};
