package notebook

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// sessionNotices passes lines on to w, except a backend notice
// ("backend: …", e.g. the pure-Go fallback) that an earlier cell of the same
// GoNB kernel session already showed: every cell is its own process, so
// without this each cell that trains would repeat it. The notices shown are
// remembered in a file of the session's temporary directory ($GONB_TMP_DIR;
// outside GoNB every notice is shown).
type sessionNotices struct {
	w io.Writer
}

const noticesFile = "cmemae-notices-shown"

func (s sessionNotices) Write(p []byte) (int, error) {
	dir := os.Getenv("GONB_TMP_DIR")
	if dir == "" || !bytes.HasPrefix(p, []byte("backend: ")) {
		return s.w.Write(p)
	}
	path := filepath.Join(dir, noticesFile)
	shown, _ := os.ReadFile(path)
	for line := range bytes.Lines(shown) {
		if bytes.Equal(line, p) {
			return len(p), nil
		}
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		_, _ = f.Write(p)
		_ = f.Close()
	}
	return len(p), nil
}
