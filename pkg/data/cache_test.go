package data

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadCached: the same (name, split, data directory) gives the same
// dataset; a failed load is not cached, so the call after the user fixed the
// directory loads.
func TestLoadCached(t *testing.T) {
	a, err := LoadCached("mnist", Test, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadCached("mnist", Test, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two loads of mnist/test gave two datasets")
	}
	if a.N != 10000 {
		t.Errorf("mnist test set has %d images, want 10000", a.N)
	}

	// A directory with the test images but not yet their labels fails (a
	// partial data directory is an error); once the user adds the labels, the
	// next call loads: the failure was not cached.
	t.Setenv(EnvOffline, "1")
	srcs, err := findGoMNIST()
	if err != nil || len(srcs) == 0 {
		t.Skipf("built-in MNIST not found: %v", err)
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "mnist") // <data dir>/mnist, as Load looks for it
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Uncompressed copies (the official .gz files would count as an
	// interrupted download, which is completed rather than refused).
	copyFile := func(f string) {
		in, err := os.Open(filepath.Join(srcs[0], f+".gz"))
		if err != nil {
			t.Skipf("built-in MNIST: %v", err)
		}
		defer in.Close()
		zr, err := gzip.NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(idxFiles[Test][0])
	if _, err := LoadCached("mnist", Test, LoadOptions{DataDir: dir}); err == nil {
		t.Fatal("mnist from a directory without the test labels: no error")
	}
	copyFile(idxFiles[Test][1])
	c, err := LoadCached("mnist", Test, LoadOptions{DataDir: dir})
	if err != nil {
		t.Fatalf("after the labels were put in place: %v (the failure was cached?)", err)
	}
	if c == a {
		t.Error("another data directory gave the cached dataset of the default one")
	}
}
