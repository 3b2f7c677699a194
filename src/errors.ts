/** Base class of every error tapegrad throws on purpose. */
export class TapegradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Shapes that do not fit an op: broadcasting, matmul inner dims, reshape sizes. */
export class ShapeError extends TapegradError {}
/** Mixed or unsupported dtypes. */
export class DTypeError extends TapegradError {}
/** An axis or index outside its range. */
export class IndexError extends TapegradError {}
/** Misuse of the tape: backward on a non-scalar, through freed buffers, etc. */
export class AutogradError extends TapegradError {}
/** A bad option or argument value (negative lr, NaN where finite is required, …). */
export class ValueError extends TapegradError {}
/** A file that is not what it claims to be (safetensors, checkpoints). */
export class FormatError extends TapegradError {}
/** The requested backend cannot run here. */
export class BackendError extends TapegradError {}
/** A model that cannot be exported (an op with no ONNX mapping, a size that cannot follow a dynamic axis). */
export class ExportError extends TapegradError {}
