// measure: RTO and RPO from the run's timeline and the stand-ins' heartbeats.
export { measureObjectives, type Beat, type DataLoss, type Objectives } from './objectives.ts';
export { sampleBeats } from './sample-beats.ts';
