package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cmemae/cmemae/pkg/atomicfile"
)

// Download retries: every base URL is tried downloadAttempts times, waiting
// retryDelay (doubling) between rounds. A transfer that receives nothing for
// stallTimeout is abandoned. Variables so that tests can shorten them.
var (
	downloadAttempts = 3
	retryDelay       = time.Second
	stallTimeout     = time.Minute
)

// defaultClient is used when LoadOptions.HTTPClient is nil: the default
// transport (proxy settings from the environment) with a bound on waiting for
// a response; the body may take as long as it needs while data flows.
var defaultClient = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: tr}
}()

// errStalled reports a transfer that stopped delivering data.
var errStalled = errors.New("transfer stalled")

// stallReader cancels the transfer (through cancel) when no Read returns data
// for stallTimeout.
type stallReader struct {
	r     io.Reader
	timer *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(stallTimeout)
	}
	return n, err
}

// permanentError marks a download failure that a retry cannot fix (e.g. 404).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// fetchDataset downloads the missing files of a split into root (the data
// directory): IDX files into root/dataDirs[0]; an archive into root, from
// which the files are extracted into root/dataDirs[0].
func fetchDataset(sp *spec, split Split, root string, opts LoadOptions) (err error) {
	dest := filepath.Join(root, sp.dataDirs[0])
	// Directories created here are removed again if the download fails and
	// they are still empty: a failed download leaves nothing behind.
	var created []string
	for d := dest; ; d = filepath.Dir(d) {
		if _, statErr := os.Stat(d); statErr == nil || d == filepath.Dir(d) {
			break
		}
		created = append(created, d)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	defer func() {
		if err != nil {
			for _, d := range created { // deepest first
				_ = os.Remove(d) // fails, as wanted, unless empty
			}
		}
	}()
	bases := sp.baseURLs
	if opts.BaseURL != "" {
		bases = []string{opts.BaseURL}
	}
	if sp.archive {
		arc := sp.remote[0]
		arcPath := filepath.Join(root, arc.name)
		downloaded := false
		if sum, err := fileMD5(arcPath); err != nil || sum != arc.md5 {
			if err := download(opts, bases, arc, arcPath); err != nil {
				return err
			}
			downloaded = true
		}
		if err := extractTarGz(arcPath, dest, append(append([]string{}, sp.files[Train]...), sp.files[Test]...)); err != nil {
			return err
		}
		if downloaded {
			// The extracted files are complete; our download is no longer needed
			// (an archive the user put there is left alone).
			_ = os.Remove(arcPath)
		}
		return nil
	}
	for _, base := range sp.files[split] {
		if _, ok := findIDX(dest, base); ok {
			continue
		}
		var rf *remoteFile
		for i := range sp.remote {
			if sp.remote[i].name == base+".gz" {
				rf = &sp.remote[i]
			}
		}
		if rf == nil {
			return fmt.Errorf("no download address for %s", base)
		}
		if err := download(opts, bases, *rf, filepath.Join(dest, rf.name)); err != nil {
			return err
		}
	}
	return nil
}

// download fetches rf from the first base URL that works, retrying, into
// dest. On success dest is complete and verified; on failure no file is left.
func download(opts LoadOptions, bases []string, rf remoteFile, dest string) error {
	var errs []error
	delay := retryDelay
	for attempt := range downloadAttempts {
		if attempt > 0 {
			time.Sleep(delay)
			delay *= 2
		}
		if opts.Context != nil && opts.Context.Err() != nil {
			errs = append(errs, opts.Context.Err())
			break
		}
		retryable := false
		for _, base := range bases {
			url := joinURL(base, rf.name)
			err := downloadOnce(opts, url, rf.md5, dest)
			if err == nil {
				return nil
			}
			errs = append(errs, fmt.Errorf("attempt %d: %s: %w", attempt+1, url, err))
			if !errors.As(err, new(permanentError)) {
				retryable = true
			}
		}
		if !retryable {
			break
		}
	}
	return fmt.Errorf("downloading %s: %w", filepath.Base(dest), errors.Join(errs...))
}

func joinURL(base, name string) string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + name
}

// downloadOnce streams url into a temporary file next to dest, verifying the
// length and MD5 checksum, then fsyncs and renames it to dest.
func downloadOnce(opts LoadOptions, url, wantMD5, dest string) (err error) {
	client := opts.HTTPClient
	if client == nil {
		client = defaultClient
	}
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stall := time.AfterFunc(stallTimeout, func() { cancel(fmt.Errorf("%w: no data for %v", errStalled, stallTimeout)) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return permanentError{err}
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return permanentError{err}
		}
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("HTTP status %s", resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return permanentError{err}
		}
		return err
	}

	var bar io.Writer = io.Discard
	if opts.Progress != nil {
		pb := progressbar.NewOptions64(resp.ContentLength,
			progressbar.OptionSetWriter(opts.Progress),
			progressbar.OptionSetDescription("downloading "+path.Base(url)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(opts.Progress) }),
		)
		defer func() {
			if err == nil {
				_ = pb.Finish()
			} else {
				_ = pb.Exit()
			}
		}()
		bar = pb
	}

	h := md5.New()
	n, err := writeAtomic(dest, func(w io.Writer) (int64, error) {
		n, err := io.Copy(io.MultiWriter(w, h, bar), &stallReader{r: resp.Body, timer: stall})
		if cause := context.Cause(ctx); err != nil && cause != nil && parent.Err() == nil {
			err = cause
		}
		if err != nil {
			return n, fmt.Errorf("transfer interrupted after %d bytes: %w", n, err)
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return n, fmt.Errorf("transfer interrupted: got %d of %d bytes", n, resp.ContentLength)
		}
		if got := hex.EncodeToString(h.Sum(nil)); wantMD5 != "" && got != wantMD5 {
			return n, fmt.Errorf("checksum mismatch: MD5 %s, want %s", got, wantMD5)
		}
		return n, nil
	})
	_ = n
	return err
}

// writeAtomic creates dest with the content that fill writes (see
// atomicfile.Write) and returns the byte count fill reports.
func writeAtomic(dest string, fill func(io.Writer) (int64, error)) (n int64, err error) {
	err = atomicfile.Write(dest, 0o644, func(w io.Writer) error {
		var ferr error
		n, ferr = fill(w)
		return ferr
	})
	return n, err
}

// fileMD5 returns the hex MD5 of a file.
func fileMD5(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extractTarGz extracts the regular files whose base names are in want from
// the .tar.gz archive arc into dir, each atomically. Other entries are skipped
// (no path from the archive is used, so it cannot write outside dir).
func extractTarGz(arc, dir string, want []string) error {
	f, err := os.Open(arc)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("extracting %s: corrupt gzip stream: %w", arc, err)
	}
	defer zr.Close()
	wanted := make(map[string]bool, len(want))
	for _, w := range want {
		wanted[w] = true
	}
	tr := tar.NewReader(zr)
	for len(wanted) > 0 {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("extracting %s: %w", arc, truncated(err))
		}
		name := path.Base(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !wanted[name] {
			continue
		}
		if _, err := writeAtomic(filepath.Join(dir, name), func(w io.Writer) (int64, error) {
			n, err := io.Copy(w, tr)
			if err == nil && n != hdr.Size {
				err = io.ErrUnexpectedEOF
			}
			return n, truncated(err)
		}); err != nil {
			return fmt.Errorf("extracting %s from %s: %w", name, arc, err)
		}
		delete(wanted, name)
	}
	if len(wanted) > 0 {
		var missing []string
		for _, w := range want {
			if wanted[w] {
				missing = append(missing, w)
			}
		}
		return fmt.Errorf("extracting %s: archive lacks %s", arc, strings.Join(missing, ", "))
	}
	return nil
}
