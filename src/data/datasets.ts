/** Built-in datasets (`datasets.mnistDigits()`). */
export { mnistDigits, MNIST_IMAGE_SIZE } from './mnist.js';
export type { MnistDigits, MnistDigitsOptions, MnistSplit } from './mnist.js';
