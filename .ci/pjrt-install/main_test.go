package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The installer's absolute ptxas link becomes relative, nvvm/ is linked, and
// both still resolve after the install directory is moved (the Dockerfile's
// /stage copy).
func TestRelativeLinks(t *testing.T) {
	root := t.TempDir()
	stage := filepath.Join(root, "stage")
	nvidia := filepath.Join(stage, "nvidia")
	ptxas := filepath.Join(nvidia, "cu13", "bin", "ptxas")
	link := filepath.Join(nvidia, "bin", "ptxas")
	for _, d := range []string{filepath.Dir(ptxas), filepath.Dir(link), filepath.Join(nvidia, "cu13", "nvvm", "libdevice")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{ptxas, filepath.Join(nvidia, "cu13", "nvvm", "libdevice", "libdevice.10.bc")} {
		if err := os.WriteFile(f, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(ptxas, link); err != nil {
		t.Fatal(err)
	}
	if err := relativeLink(nvidia, link); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(link); err != nil || got != filepath.Join("..", "cu13", "bin", "ptxas") {
		t.Fatalf("ptxas link -> %q (%v), want ../cu13/bin/ptxas", got, err)
	}
	if err := linkNVVM(nvidia); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(nvidia, "nvvm")); err != nil || got != filepath.Join("cu13", "nvvm") {
		t.Fatalf("nvvm link -> %q (%v), want cu13/nvvm", got, err)
	}
	moved := filepath.Join(root, "final")
	if err := os.Rename(stage, moved); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bin/ptxas", "nvvm/libdevice/libdevice.10.bc"} {
		if _, err := os.Stat(filepath.Join(moved, "nvidia", p)); err != nil {
			t.Errorf("after the move nvidia/%s does not resolve: %v", p, err)
		}
	}
}

// Links that are relative already, point outside the root, or do not exist
// are left as they are.
func TestRelativeLinkLeavesOthers(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	cases := map[string]string{
		"relative": "../cu13/bin/ptxas",
		"outside":  filepath.Join(outside, "ptxas"),
	}
	for name, target := range cases {
		link := filepath.Join(root, name)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := relativeLink(root, link); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if got, _ := os.Readlink(link); got != target {
			t.Errorf("%s: link -> %q, want it unchanged (%q)", name, got, target)
		}
	}
	if err := relativeLink(root, filepath.Join(root, "none")); err != nil {
		t.Errorf("no link: %v", err)
	}
	if err := linkNVVM(filepath.Join(root, "no-nvidia")); err != nil {
		t.Errorf("linkNVVM without a CUDA wheel: %v", err)
	}
}
