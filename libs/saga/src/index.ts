export * from './definition';
export * from './engine';
export { ManualClock, SagaScenario } from './given-expect';
export { SagaInstances1732400000000 } from './store/migration';
export { SagaTraceparent1732900000000 } from './store/trace-migration';
export { SagaReaper, type ReaperOptions } from './store/reaper';
export { registerSagaGauges } from './store/saga-metrics';
export {
  SagaConflict,
  SagaStore,
  type CommandSink,
  type SagaStoreOptions,
  type StoredSaga,
} from './store/saga-store';
