/**
 * Fashion-MNIST and MNIST: 28×28 grey images in 10 classes, 60,000 for training and 10,000 for
 * testing, as four gzipped IDX files each.
 */

import type { DatasetSpec } from './dataset-spec.js';

const FASHION_MNIST_URL = 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion';

/**
 * Zalando's Fashion-MNIST. The checksums and sizes are those of the upstream files (whose MD5s the
 * project's README publishes). Debian's `dataset-fashion-mnist` holds the same IDX content
 * recompressed, so its .gz files have other checksums and sizes: that is why found files are not
 * checked against these.
 */
export const FASHION_MNIST: DatasetSpec = {
  name: 'Fashion-MNIST',
  description: "Zalando's article images: 70,000 28×28 greyscale images of clothing in 10 classes",
  license: 'MIT',
  source: 'https://github.com/zalandoresearch/fashion-mnist',
  dataDirName: 'fashion-mnist',
  systemDirs: ['/usr/share/datasets/fashion-mnist'],
  debianPackage: 'dataset-fashion-mnist',
  files: [
    {
      name: 'train-images-idx3-ubyte.gz',
      url: `${FASHION_MNIST_URL}/train-images-idx3-ubyte.gz`,
      sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      bytes: 26_421_880,
    },
    {
      name: 'train-labels-idx1-ubyte.gz',
      url: `${FASHION_MNIST_URL}/train-labels-idx1-ubyte.gz`,
      sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      bytes: 29_515,
    },
    {
      name: 't10k-images-idx3-ubyte.gz',
      url: `${FASHION_MNIST_URL}/t10k-images-idx3-ubyte.gz`,
      sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      bytes: 4_422_102,
    },
    {
      name: 't10k-labels-idx1-ubyte.gz',
      url: `${FASHION_MNIST_URL}/t10k-labels-idx1-ubyte.gz`,
      sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
      bytes: 5_148,
    },
  ],
};

/** Fashion-MNIST's class names, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

// The original site (yann.lecun.com/exdb/mnist) now often refuses downloads; this is the mirror
// TensorFlow's own loaders use, serving the original files.
const MNIST_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist';

/**
 * LeCun, Cortes and Burges's handwritten digits. The checksums are the widely published SHA-256s
 * of the original files.
 */
export const MNIST: DatasetSpec = {
  name: 'MNIST',
  description: 'Handwritten digits: 70,000 28×28 greyscale images in 10 classes',
  license: 'CC BY-SA 3.0',
  source: 'http://yann.lecun.com/exdb/mnist/',
  dataDirName: 'mnist',
  files: [
    {
      name: 'train-images-idx3-ubyte.gz',
      url: `${MNIST_URL}/train-images-idx3-ubyte.gz`,
      sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      bytes: 9_912_422,
    },
    {
      name: 'train-labels-idx1-ubyte.gz',
      url: `${MNIST_URL}/train-labels-idx1-ubyte.gz`,
      sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      bytes: 28_881,
    },
    {
      name: 't10k-images-idx3-ubyte.gz',
      url: `${MNIST_URL}/t10k-images-idx3-ubyte.gz`,
      sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      bytes: 1_648_877,
    },
    {
      name: 't10k-labels-idx1-ubyte.gz',
      url: `${MNIST_URL}/t10k-labels-idx1-ubyte.gz`,
      sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
      bytes: 4_542,
    },
  ],
};

/** MNIST's class names, indexed by label. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
