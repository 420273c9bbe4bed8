export * from './definition';
export * from './engine';
export { ManualClock, SagaScenario } from './given-expect';
