package data

// fileFormat is the on-disk format of a dataset.
type fileFormat int

const (
	formatIDX fileFormat = iota
	formatCIFAR
)

// remoteFile is a file of a dataset's canonical download address with its
// published MD5 checksum.
type remoteFile struct {
	name string // file name appended to the base URL
	md5  string // hex
}

// spec describes a dataset: its shape, classes, normalisation, files and
// where they come from.
type spec struct {
	name    string
	format  fileFormat
	h, w, c int
	classes []string
	mean    []float64
	std     []float64
	// files per split. IDX: base names of images and labels without ".gz"
	// (both the .gz and the raw file are accepted). CIFAR: the .bin files.
	files map[Split][]string
	// dataDirs are the folders inside a data directory that may hold the
	// files; the first one is where downloads go.
	dataDirs []string
	// builtin returns directories with a copy shipped by the system, searched
	// after the data directory (may be nil).
	builtin func() ([]string, error)
	// baseURLs are the canonical download addresses, tried in order.
	baseURLs []string
	// remote lists the files to download (IDX: the .gz files).
	remote []remoteFile
	// archive, if set, is a .tar.gz (remote[0]) that is downloaded into the data
	// directory and from which the files are extracted into dataDirs[0].
	archive bool
}

var (
	mnistClasses   = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	cifarClasses   = []string{"plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

	idxFiles = map[Split][]string{
		Train: {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
		Test:  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
	}
)

// fashionSystemDir is where Debian's dataset-fashion-mnist package installs
// the files (a variable so tests can replace it).
var fashionSystemDir = "/usr/share/datasets/fashion-mnist"

// specs are the datasets [Load] knows. Tests may change remote checksums.
var specs = []*spec{
	{
		name: "mnist", format: formatIDX, h: 28, w: 28, c: 1,
		classes:  mnistClasses,
		mean:     []float64{0.1307},
		std:      []float64{0.3081},
		files:    idxFiles,
		dataDirs: []string{"mnist", "MNIST/raw"},
		builtin:  goMNISTDirs,
		baseURLs: []string{
			"https://ossci-datasets.s3.amazonaws.com/mnist/",
			"https://storage.googleapis.com/cvdf-datasets/mnist/",
		},
		remote: []remoteFile{
			{"train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
			{"train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"},
			{"t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"},
			{"t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"},
		},
	},
	{
		name: "fashion-mnist", format: formatIDX, h: 28, w: 28, c: 1,
		classes: fashionClasses,
		// Not in the thesis: the mean and standard deviation of Fashion-MNIST's
		// own training pixels (as for MNIST's 0.1307/0.3081).
		mean:     []float64{0.2860},
		std:      []float64{0.3530},
		files:    idxFiles,
		dataDirs: []string{"fashion-mnist", "FashionMNIST/raw"},
		builtin:  func() ([]string, error) { return []string{fashionSystemDir}, nil },
		baseURLs: []string{"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"},
		remote: []remoteFile{
			{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
			{"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"},
			{"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"},
			{"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"},
		},
	},
	{
		name: "cifar", format: formatCIFAR, h: 32, w: 32, c: 3,
		classes: cifarClasses,
		mean:    []float64{0.5, 0.5, 0.5},
		std:     []float64{0.5, 0.5, 0.5},
		files: map[Split][]string{
			Train: cifarTrainFiles,
			Test:  cifarTestFiles,
		},
		dataDirs: []string{"cifar-10-batches-bin"},
		baseURLs: []string{"https://www.cs.toronto.edu/~kriz/"},
		remote:   []remoteFile{{"cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"}},
		archive:  true,
	},
}
