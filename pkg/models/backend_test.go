package models

import (
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
)

// sharedBackend is the pure-Go backend configured as pkg/backend configures
// it for users (sequential op scheduling): compute v0.1.2's default parallel
// scheduling can deadlock in its worker pool.
var sharedBackend = sync.OnceValues(func() (compute.Backend, error) {
	b, _, err := backend.New(backend.GoName)
	return b, err
})

// testBackend returns the backend the tests run on.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := sharedBackend()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}
