// evidence: what a drill run leaves for people — the Allure results (steps, attachments,
// labels, categories, environment, history), the RTO/RPO history, and the signed audit
// evidence (evidence.json and .md, a detached OpenPGP signature, the signer's public key)
// built from the journals. Failures handled: no evidence key (a one-off key, said so), a
// run in which no drill finished (nothing to sign: buildEvidence refuses).
export { ALLURE_CATEGORIES, environmentFacts, keepAllureHistory, prepareAllureResults } from './allure-extras.ts';
export { allureHooks, chartOf, labelScenario, reportMeasurements } from './allure-hooks.ts';
export { rtoRpoChart, type ChartObjectives } from './rto-rpo-chart.ts';
export { buildEvidence, CONTROLS, EVIDENCE_FORMAT, type Evidence, type EvidenceContext } from './build-evidence.ts';
export { historyTable, recordDrillHistory, type HistoryLine } from './drill-history.ts';
export { renderEvidenceMarkdown } from './render-evidence.ts';
export { evidenceSigner, signDetached, type EvidenceSigner } from './sign-evidence.ts';
export { writeEvidence, type WrittenEvidence } from './write-evidence.ts';
