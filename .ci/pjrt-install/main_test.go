package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The installer's absolute ptxas link becomes relative and still resolves
// after the install directory is moved (the Dockerfile's /stage copy).
func TestRelativePtxas(t *testing.T) {
	root := t.TempDir()
	stage := filepath.Join(root, "stage")
	ptxas := filepath.Join(stage, "nvidia", "cu13", "bin", "ptxas")
	link := filepath.Join(stage, "nvidia", "bin", "ptxas")
	for _, d := range []string{filepath.Dir(ptxas), filepath.Dir(link)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(ptxas, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ptxas, link); err != nil {
		t.Fatal(err)
	}
	if err := relativePtxas(link); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(link); err != nil || got != filepath.Join("..", "cu13", "bin", "ptxas") {
		t.Fatalf("link -> %q (%v), want ../cu13/bin/ptxas", got, err)
	}
	moved := filepath.Join(root, "final")
	if err := os.Rename(stage, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(moved, "nvidia", "bin", "ptxas")); err != nil {
		t.Errorf("after the move the link does not resolve: %v", err)
	}
	// No link (a CPU-only install) and a relative link are left alone.
	if err := relativePtxas(filepath.Join(root, "none")); err != nil {
		t.Errorf("no link: %v", err)
	}
	if err := relativePtxas(filepath.Join(moved, "nvidia", "bin", "ptxas")); err != nil {
		t.Errorf("relative link: %v", err)
	}
}
