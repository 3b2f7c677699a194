/** The state codec lives in io/codec.ts (shared with checkpoints); re-exported here for the schedulers. */
export * from '../io/codec.js';
