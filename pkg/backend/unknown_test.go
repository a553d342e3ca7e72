package backend

import (
	"errors"
	"strings"
	"testing"
)

// An unknown backend name is ErrUnknown (a configuration mistake for the
// command line, exit code 2); it names the valid ones.
func TestUnknownBackendIsErrUnknown(t *testing.T) {
	_, _, err := New("tpu-magic:fast")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `"tpu-magic:fast"`) || !strings.Contains(err.Error(), "available: ") || !strings.Contains(err.Error(), "go") {
		t.Errorf("New(tpu-magic:fast): %v", err)
	}
	b, _, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	b.Finalize()
}
