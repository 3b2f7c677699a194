// Property tests are deterministic in CI (set FC_SEED to explore other seeds locally).
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261129) });
