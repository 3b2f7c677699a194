/**
 * The LeNet-ish CNN of examples/mnist-cnn.ts (and bench/lib/cnn.ts): conv 1→8 3×3 pad 1, ReLU, max-pool 2,
 * conv 8→16 3×3 pad 1, ReLU, max-pool 2, flatten, linear 784→10, over [N, 1, 28, 28] images.
 */
import { nn } from '../../src/index.js';

export function lenet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 10),
  );
}
