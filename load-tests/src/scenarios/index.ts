import type { Scenario } from '../scenario';
import { baseline } from './baseline';
import { read10k } from './read-10k';

/** Every scenario `npm run load` knows, in the order `all` runs them. */
export const SCENARIOS: readonly Scenario[] = [baseline, read10k];
