export * from './definition';
export * from './engine';
export { ManualClock, SagaScenario } from './given-expect';
export { SagaInstances1732400000000 } from './store/migration';
export { SagaConflict, SagaStore, type CommandSink, type StoredSaga } from './store/saga-store';
