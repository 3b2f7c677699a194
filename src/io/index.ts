/** Reading and writing tensors (safetensors) and training checkpoints. */
export {
  saveSafetensors,
  loadSafetensors,
  loadSafetensorsWithMetadata,
  readSafetensorsHeader,
  encodeSafetensors,
  decodeSafetensors,
  decodeSafetensorsWithMetadata,
  MAX_HEADER_BYTES,
  DEFAULT_MAX_TENSORS,
} from './safetensors.js';
export type {
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsContents,
  SaveSafetensorsOptions,
  DecodeOptions,
} from './safetensors.js';
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_VERSION } from './checkpoint.js';
export type {
  JsonValue,
  StateValue,
  StatefulModel,
  Stateful,
  StatefulGenerator,
  CheckpointContents,
  CheckpointTargets,
  SaveCheckpointOptions,
  LoadCheckpointOptions,
  LoadedCheckpoint,
} from './checkpoint.js';
export type { AtomicWriteOptions } from './atomic.js';
export { exportOnnx, exportOnnxBytes } from './onnx/export.js';
export type { ExportOnnxOptions, Exportable, ExportableModule, DynamicAxes } from './onnx/export.js';
