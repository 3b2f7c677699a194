/** Data: the DataLoader and built-in datasets. */
export { DataLoader } from './dataloader.js';
export type { DataLoaderOptions } from './dataloader.js';
export * as datasets from './datasets.js';
export type { MnistDigits, MnistDigitsOptions, MnistSplit } from './mnist.js';
