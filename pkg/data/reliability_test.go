package data

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A data directory holding only the training files is not completed with the
// built-in MNIST's test files (a train/test mix from two sources).
func TestPartialDataDirNotMixed(t *testing.T) {
	offlineBuiltins(t)
	dir := t.TempDir()
	mnist := filepath.Join(dir, "mnist")
	writeMNISTFiles(t, mnist, 5, true)
	for _, name := range idxFiles[Test] {
		must(t, os.Remove(filepath.Join(mnist, name+".gz")))
	}
	ds, err := Load("mnist", Train, LoadOptions{DataDir: dir})
	must(t, err)
	if ds.N != 5 {
		t.Errorf("train N = %d, want 5", ds.N)
	}
	_, err = Load("mnist", Test, LoadOptions{DataDir: dir})
	want := filepath.Join(mnist, "t10k-images-idx3-ubyte.gz")
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "never mixed") {
		t.Fatalf("test split of a partial data dir: err = %v, want it to name %s", err, want)
	}
	t.Log(err)
	// Same with downloads allowed: nothing is fetched into a user's partial dir.
	t.Setenv(EnvOffline, "")
	if _, err := Load("mnist", Test, LoadOptions{DataDir: dir, BaseURL: "http://127.0.0.1:1/"}); err == nil || !strings.Contains(err.Error(), "never mixed") {
		t.Errorf("downloads allowed: %v", err)
	}
}

// A file that is a directory, a symlink loop or a dangling link is reported
// with its cause, not treated as missing (which fell back to the built-in copy).
func TestBadDataFilesNamed(t *testing.T) {
	offlineBuiltins(t)
	for name, make := range map[string]func(p string){
		"directory":    func(p string) { must(t, os.Mkdir(p, 0o755)) },
		"symlink loop": func(p string) { must(t, os.Symlink(p, p)) },
		"dangling":     func(p string) { must(t, os.Symlink(p+".nowhere", p)) },
	} {
		dir := t.TempDir()
		mnist := filepath.Join(dir, "mnist")
		writeMNISTFiles(t, mnist, 4, true)
		p := filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz")
		must(t, os.Remove(p))
		make(p)
		_, err := Load("mnist", Test, LoadOptions{DataDir: dir})
		if err == nil || !strings.Contains(err.Error(), p+" cannot be used") {
			t.Errorf("%s: err = %v, want it to name %s", name, err, p)
		}
		t.Logf("%s: %v", name, err)
	}
}

// Permission denied is reported as such, not as "files not found".
func TestPermissionDeniedReported(t *testing.T) {
	offlineBuiltins(t)
	dir := t.TempDir()
	mnist := filepath.Join(dir, "mnist")
	writeMNISTFiles(t, mnist, 4, true)
	denied := filepath.Join(mnist, "t10k-images-idx3-ubyte.gz")
	old := openFile
	t.Cleanup(func() { openFile = old })
	openFile = func(p string) (*os.File, error) {
		if p == denied {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
		}
		return old(p)
	}
	_, err := Load("mnist", Test, LoadOptions{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), denied) ||
		strings.Contains(err.Error(), "not found") || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v, want permission denied naming %s", err, denied)
	}
	t.Log(err)
}

// The IDX reader checks the header against the file length before
// allocating: a 16-byte file announcing 1 GiB fails at once.
func TestIDXHeaderCheckedAgainstLength(t *testing.T) {
	hdr := []byte{0, 0, 8, 2, 0, 0, 0x80, 0, 0, 0, 0x80, 0} // 32768×32768 = 1 GiB
	p := filepath.Join(t.TempDir(), "x-idx2-ubyte")
	must(t, os.WriteFile(p, hdr, 0o644))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadIDXFile(p)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("reading a 12-byte file allocated %d bytes", got)
	}
	if err == nil || !strings.Contains(err.Error(), "need 1073741824 data bytes, the file has 0") || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v", err)
	}
	// A stream of unknown length grows with the data: a short stream fails
	// after reading what is there.
	_, err = ReadIDX(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(make([]byte, 100))))
	if err == nil || !strings.Contains(err.Error(), "the file has 100") {
		t.Errorf("stream: %v", err)
	}
}

// A failed CIFAR download leaves no empty directory behind.
func TestFailedDownloadLeavesNoDirectory(t *testing.T) {
	fastRetries(t, 1)
	srv, _ := serve(t, nil, 0) // 404 for everything
	root := filepath.Join(t.TempDir(), "data")
	_, err := Load("cifar", Test, LoadOptions{DataDir: root, BaseURL: srv.URL, HTTPClient: http.DefaultClient})
	if err == nil {
		t.Fatal("download from a 404 server succeeded")
	}
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed download left %s behind (stat: %v)", root, err)
	}
	// An existing data directory is kept.
	root2 := t.TempDir()
	if _, err := Load("cifar", Test, LoadOptions{DataDir: root2, BaseURL: srv.URL}); err == nil {
		t.Fatal("download succeeded")
	}
	if _, err := os.Stat(root2); err != nil {
		t.Errorf("existing data dir removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root2, "cifar-10-batches-bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty cifar-10-batches-bin left behind: %v", err)
	}
}

// A data directory that is a file is named as such.
func TestDataDirIsAFile(t *testing.T) {
	offlineBuiltins(t)
	f := filepath.Join(t.TempDir(), "data")
	must(t, os.WriteFile(f, []byte("x"), 0o644))
	_, err := Load("mnist", Train, LoadOptions{DataDir: f})
	if err == nil || !strings.Contains(err.Error(), f+" is a file, not a directory") {
		t.Errorf("err = %v", err)
	}
}
