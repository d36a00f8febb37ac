// scenario: the drill language (TOML) -> schema -> typed, validated Scenario. An invalid
// scenario is rejected by file name, field and reason before any container starts.
// Each fault and probe kind declares its own fields (the faults/ and probes/ registries), built
// from fields.ts; schema.ts adds the rules that span fields (what needs the containers).
export { loadScenario, loadScenarios, SCENARIO_DIR } from './load-scenario.ts';
export { selectByTags, SCHEDULE_TAGS } from './select-by-tags.ts';
export { expandPlaceholders, placeholderProblem, dateStamp } from './placeholders.ts';
export {
  scenarioSchema,
  probeSchema,
  faultSchema,
  SCRIPT_NAMES,
  type Scenario,
  type Probe,
  type Fault,
  type ScriptRun,
} from './schema.ts';
export { parseByteSize } from './fields.ts';
