// Package testbackend gives the project's tests one process-wide pure-Go
// GoMLX backend, configured as package backend configures it for users
// (sequential op scheduling: compute v0.1.2's default parallel scheduling can
// deadlock in its worker pool).
package testbackend

import (
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
)

var shared = sync.OnceValues(func() (compute.Backend, error) {
	b, _, err := backend.New(backend.GoName)
	return b, err
})

// Go returns the shared pure-Go backend, failing the test if it cannot be
// created.
func Go(t testing.TB) compute.Backend {
	t.Helper()
	b, err := shared()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}
