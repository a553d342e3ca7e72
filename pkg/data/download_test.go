package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeCIFAR is a small CIFAR-10 in the exact binary format: 3 images per
// training batch file, 4 in the test file, labels (file*3+i) mod 10 and pixel
// values from pixelPattern.
type fakeCIFAR struct {
	files   map[string][]byte // base name → content
	labels  map[Split][]int
	archive []byte // cifar-10-binary.tar.gz
	md5     string
}

func newFakeCIFAR(t testing.TB) *fakeCIFAR {
	t.Helper()
	fc := &fakeCIFAR{files: map[string][]byte{}, labels: map[Split][]int{}}
	seed := 0
	add := func(split Split, name string, n int) {
		var content []byte
		for range n {
			label := seed % 10
			content = append(content, cifarRecord(byte(label), pixelPattern(seed))...)
			fc.labels[split] = append(fc.labels[split], label)
			seed++
		}
		fc.files[name] = content
	}
	for _, name := range cifarTrainFiles {
		add(Train, name, 3)
	}
	add(Test, cifarTestFiles[0], 4)

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	// The real archive holds a directory entry, the .bin files and two text files.
	must(t, tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/", Typeflag: tar.TypeDir, Mode: 0o755}))
	names := append(append([]string{}, cifarTrainFiles...), cifarTestFiles...)
	names = append(names, "batches.meta.txt", "readme.html")
	for _, name := range names {
		content, ok := fc.files[name]
		if !ok {
			content = []byte("airplane\nautomobile\n")
		}
		must(t, tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}))
		_, err := tw.Write(content)
		must(t, err)
	}
	must(t, tw.Close())
	must(t, zw.Close())
	fc.archive = buf.Bytes()
	sum := md5.Sum(fc.archive)
	fc.md5 = hex.EncodeToString(sum[:])
	return fc
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setRemoteMD5 replaces the published checksum of a dataset's download for
// the duration of the test.
func setRemoteMD5(t *testing.T, dataset, file, sum string) {
	t.Helper()
	sp, err := lookupSpec(dataset)
	must(t, err)
	for i := range sp.remote {
		if sp.remote[i].name == file {
			old := sp.remote[i].md5
			sp.remote[i].md5 = sum
			t.Cleanup(func() { sp.remote[i].md5 = old })
			return
		}
	}
	t.Fatalf("no remote file %s for %s", file, dataset)
}

// fastRetries makes download retries immediate.
func fastRetries(t *testing.T, attempts int) {
	oldA, oldD := downloadAttempts, retryDelay
	downloadAttempts, retryDelay = attempts, time.Millisecond
	t.Cleanup(func() { downloadAttempts, retryDelay = oldA, oldD })
}

// regularFiles lists the regular files under dir (relative paths).
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	must(t, err)
	return files
}

// serve serves files by name; failFirst > 0 interrupts that many requests
// halfway through the body. It counts requests.
func serve(t *testing.T, files map[string][]byte, failFirst int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var count atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := count.Add(1)
		content, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		if int(n) <= failFirst {
			_, _ = w.Write(content[:len(content)/2])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		_, _ = w.Write(content)
	}))
	t.Cleanup(srv.Close)
	return srv, &count
}

func TestLoadCIFARDownload(t *testing.T) {
	fc := newFakeCIFAR(t)
	setRemoteMD5(t, "cifar", "cifar-10-binary.tar.gz", fc.md5)
	fastRetries(t, 1)
	srv, count := serve(t, map[string][]byte{"cifar-10-binary.tar.gz": fc.archive}, 0)
	dir := t.TempDir()
	var progress bytes.Buffer
	opts := LoadOptions{DataDir: dir, BaseURL: srv.URL, Progress: &progress}

	train, err := Load("cifar", Train, opts)
	must(t, err)
	if train.N != 15 || train.H != 32 || train.W != 32 || train.C != 3 || len(train.Images) != 15*32*32*3 {
		t.Fatalf("train: N=%d %dx%dx%d, %d values", train.N, train.H, train.W, train.C, len(train.Images))
	}
	for i, l := range fc.labels[Train] {
		if train.Labels[i] != l {
			t.Fatalf("train labels %v, want %v", train.Labels, fc.labels[Train])
		}
	}
	if got := strings.Join(train.ClassNames, ","); got != "plane,car,bird,cat,deer,dog,frog,horse,ship,truck" {
		t.Errorf("class names %s", got)
	}
	// Pixels: (v/255 − 0.5)/0.5, channels-last.
	for i := range train.N {
		f := pixelPattern(i)
		for _, p := range [][3]int{{0, 0, 0}, {1, 2, 3}, {2, 31, 30}} {
			c, y, x := p[0], p[1], p[2]
			want := float32((float64(f(c, y, x))/255 - 0.5) / 0.5)
			if got := train.Image(i)[(y*32+x)*3+c]; got != want {
				t.Errorf("image %d c%d (%d,%d) = %v, want %v", i, c, y, x, got, want)
			}
		}
	}
	if !strings.Contains(progress.String(), "downloading cifar-10-binary.tar.gz") {
		t.Errorf("no progress bar in %q", progress.String())
	}
	// The archive is gone, the six files are in cifar-10-batches-bin.
	files := regularFiles(t, dir)
	if len(files) != 6 {
		t.Errorf("data dir holds %v, want the 6 .bin files", files)
	}
	for _, f := range files {
		if filepath.Dir(f) != "cifar-10-batches-bin" || !strings.HasSuffix(f, ".bin") {
			t.Errorf("unexpected file %s", f)
		}
	}

	// The test split is now read from disk without another request.
	test, err := Load("cifar10", Test, opts)
	must(t, err)
	if test.N != 4 || test.Labels[3] != fc.labels[Test][3] {
		t.Errorf("test: N=%d labels %v, want %v", test.N, test.Labels, fc.labels[Test])
	}
	if n := count.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestDownloadChecksumMismatch(t *testing.T) {
	fc := newFakeCIFAR(t)
	setRemoteMD5(t, "cifar", "cifar-10-binary.tar.gz", strings.Repeat("0", 32))
	fastRetries(t, 2)
	srv, count := serve(t, map[string][]byte{"cifar-10-binary.tar.gz": fc.archive}, 0)
	dir := t.TempDir()
	_, err := Load("cifar", Train, LoadOptions{DataDir: dir, BaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("error %v, want a checksum mismatch", err)
	}
	t.Log(err)
	if files := regularFiles(t, dir); len(files) != 0 {
		t.Errorf("files left after a failed download: %v", files)
	}
	if n := count.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (one retry)", n)
	}
}

func TestDownloadInterrupted(t *testing.T) {
	fc := newFakeCIFAR(t)
	setRemoteMD5(t, "cifar", "cifar-10-binary.tar.gz", fc.md5)
	fastRetries(t, 1)
	srv, _ := serve(t, map[string][]byte{"cifar-10-binary.tar.gz": fc.archive}, 1)
	dir := t.TempDir()
	opts := LoadOptions{DataDir: dir, BaseURL: srv.URL}
	_, err := Load("cifar", Test, opts)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v, want an interrupted transfer", err)
	}
	t.Log(err)
	if files := regularFiles(t, dir); len(files) != 0 {
		t.Errorf("files left after an interrupted download: %v", files)
	}
	// Trying again succeeds.
	ds, err := Load("cifar", Test, opts)
	must(t, err)
	if ds.N != 4 {
		t.Errorf("N = %d after retry, want 4", ds.N)
	}
}

func TestDownloadRetrySucceeds(t *testing.T) {
	fc := newFakeCIFAR(t)
	setRemoteMD5(t, "cifar", "cifar-10-binary.tar.gz", fc.md5)
	fastRetries(t, 3)
	srv, count := serve(t, map[string][]byte{"cifar-10-binary.tar.gz": fc.archive}, 2)
	ds, err := Load("cifar", Train, LoadOptions{DataDir: t.TempDir(), BaseURL: srv.URL})
	must(t, err)
	if ds.N != 15 {
		t.Errorf("N = %d, want 15", ds.N)
	}
	if n := count.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (two interrupted, one complete)", n)
	}
}

func TestDownloadNotFoundIsNotRetried(t *testing.T) {
	fastRetries(t, 3)
	srv, count := serve(t, nil, 0)
	dir := t.TempDir()
	_, err := Load("cifar", Train, LoadOptions{DataDir: dir, BaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("error %v, want HTTP 404", err)
	}
	if n := count.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if files := regularFiles(t, dir); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}

func TestCIFARArchiveAlreadyPresent(t *testing.T) {
	fc := newFakeCIFAR(t)
	setRemoteMD5(t, "cifar", "cifar-10-binary.tar.gz", fc.md5)
	t.Setenv(EnvOffline, "1")
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "cifar-10-binary.tar.gz"), fc.archive, 0o644))
	// A manually downloaded, verified archive is extracted even offline
	// (Download: true allows fetchDataset; no request is needed) and kept.
	ds, err := Load("cifar", Test, LoadOptions{DataDir: dir, Download: true, BaseURL: "http://127.0.0.1:1/"})
	must(t, err)
	if ds.N != 4 {
		t.Errorf("N = %d, want 4", ds.N)
	}
	if files := regularFiles(t, dir); len(files) != 7 {
		t.Errorf("data dir holds %v, want the archive and 6 .bin files", files)
	}
}

func TestLoadOfflineMissingFiles(t *testing.T) {
	t.Setenv(EnvOffline, "1")
	t.Setenv(EnvDataDir, "")
	old := fashionSystemDir
	fashionSystemDir = filepath.Join(t.TempDir(), "no-such-dir")
	t.Cleanup(func() { fashionSystemDir = old })
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, hint string }{
		{"cifar", filepath.Join(dir, "cifar-10-batches-bin", "data_batch_1.bin"), "https://www.cs.toronto.edu/~kriz/"},
		{"fashion-mnist", filepath.Join(dir, "fashion-mnist", "train-images-idx3-ubyte.gz"), "dataset-fashion-mnist"},
	} {
		_, err := Load(tc.name, Train, LoadOptions{DataDir: dir})
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		for _, want := range []string{tc.path, tc.hint, EnvDataDir, "CMEMAE_OFFLINE"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error does not mention %q:\n%v", tc.name, want, err)
			}
		}
		t.Log(err)
	}
}

// TestFashionMNISTDownload exercises the IDX download path with a fake server
// serving gzip-compressed IDX files.
func TestFashionMNISTDownload(t *testing.T) {
	old := fashionSystemDir
	fashionSystemDir = filepath.Join(t.TempDir(), "no-such-dir")
	t.Cleanup(func() { fashionSystemDir = old })
	fastRetries(t, 1)
	images := make([]byte, 5*28*28)
	for i := range images {
		images[i] = byte(i % 251)
	}
	files := map[string][]byte{
		"t10k-images-idx3-ubyte.gz": gzipBytes(t, idxBytes(t, []int{5, 28, 28}, images)),
		"t10k-labels-idx1-ubyte.gz": gzipBytes(t, idxBytes(t, []int{5}, []byte{9, 0, 3, 3, 7})),
	}
	for name, content := range files {
		sum := md5.Sum(content)
		setRemoteMD5(t, "fashion-mnist", name, hex.EncodeToString(sum[:]))
	}
	srv, count := serve(t, files, 0)
	dir := t.TempDir()
	ds, err := Load("fashion-mnist", Test, LoadOptions{DataDir: dir, BaseURL: srv.URL})
	must(t, err)
	if ds.N != 5 || ds.Labels[0] != 9 || ds.Labels[4] != 7 || ds.ClassNames[9] != "Ankle boot" {
		t.Errorf("N=%d labels %v classes %v", ds.N, ds.Labels, ds.ClassNames)
	}
	want := float32((float64(images[100])/255 - 0.2860) / 0.3530)
	if ds.Images[100] != want {
		t.Errorf("pixel 100 = %v, want %v", ds.Images[100], want)
	}
	if n := count.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if got := regularFiles(t, dir); len(got) != 2 {
		t.Errorf("data dir holds %v", got)
	}
}

func TestDownloadMirrorFallback(t *testing.T) {
	fc := newFakeCIFAR(t)
	setRemoteMD5(t, "cifar", "cifar-10-binary.tar.gz", fc.md5)
	fastRetries(t, 1)
	dead, deadCount := serve(t, nil, 0) // 404 for everything
	good, goodCount := serve(t, map[string][]byte{"cifar-10-binary.tar.gz": fc.archive}, 0)
	sp, _ := lookupSpec("cifar")
	old := sp.baseURLs
	sp.baseURLs = []string{dead.URL + "/cifar/", good.URL}
	t.Cleanup(func() { sp.baseURLs = old })
	ds, err := Load("cifar", Test, LoadOptions{DataDir: t.TempDir()})
	must(t, err)
	if ds.N != 4 || deadCount.Load() != 1 || goodCount.Load() != 1 {
		t.Errorf("N=%d, requests %d to the dead mirror, %d to the good one", ds.N, deadCount.Load(), goodCount.Load())
	}
}

func TestDownloadCancelled(t *testing.T) {
	fastRetries(t, 3)
	srv, count := serve(t, map[string][]byte{"cifar-10-binary.tar.gz": []byte("x")}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := Load("cifar", Test, LoadOptions{DataDir: dir, BaseURL: srv.URL, Context: ctx})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("error %v, want context canceled", err)
	}
	if count.Load() != 0 || len(regularFiles(t, dir)) != 0 {
		t.Errorf("%d requests, files %v", count.Load(), regularFiles(t, dir))
	}
}

func TestDownloadStalled(t *testing.T) {
	fastRetries(t, 1)
	old := stallTimeout
	stallTimeout = 200 * time.Millisecond
	t.Cleanup(func() { stallTimeout = old })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		select { // stall until the client gives up
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	start := time.Now()
	_, err := Load("cifar", Test, LoadOptions{DataDir: dir, BaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("error %v, want a stalled transfer", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if files := regularFiles(t, dir); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}
