//go:build cgo && !noxla && ((linux && (amd64 || arm64)) || (darwin && arm64))

package backend

import (
	"errors"
	"testing"

	"github.com/gomlx/go-xla/compute/xla"
)

func probeInstalledOnly() string { return installedPlugin() }

// TestAutoInstallerLinked: the XLA fallback can install its PJRT plugin (go-xla
// links the downloader only when its autoinstall package is imported; without
// it every first use of XLA falls back to Go with "auto-installer not linked").
func TestAutoInstallerLinked(t *testing.T) {
	err := xla.AutoInstallPlugin("cmemae-no-such-plugin")
	if errors.Is(err, xla.ErrNoAutoInstaller) {
		t.Fatalf("the PJRT auto-installer is not linked: %v", err)
	}
	t.Logf("AutoInstallPlugin of an unknown plugin: %v", err)
}
