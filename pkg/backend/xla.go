//go:build cgo && !noxla && ((linux && (amd64 || arm64)) || (darwin && arm64))

package backend

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gomlx/go-xla/compute/xla"
	// Since go-xla v0.4.x the PJRT plugin downloader is linked only on request
	// (xla.AutoInstall otherwise fails with xla.ErrNoAutoInstaller).
	_ "github.com/gomlx/go-xla/compute/xla/autoinstall"
	"github.com/gomlx/go-xla/pjrt"
)

// AutoInstallTimeout bounds how long New waits for the XLA PJRT plugin to be
// auto-installed before falling back to the Go backend.
var AutoInstallTimeout = 5 * time.Minute

func init() {
	// New decides itself when to install: never let go-xla do it implicitly.
	xla.EnableAutoInstall(false)
	xlaProbe = probeXLA
}

// probeXLA returns "xla:<plugin>" if a PJRT plugin is installed, installing
// the default ones first unless GOMLX_NO_AUTO_INSTALL is set.
func probeXLA() (config, reason string) {
	if plugin := installedPlugin(); plugin != "" {
		return xla.BackendName + ":" + plugin, ""
	}
	if _, off := os.LookupEnv(xla.NoAutoInstallEnv); off {
		return "", fmt.Sprintf("no XLA PJRT plugin installed and $%s is set", xla.NoAutoInstallEnv)
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("auto-install panicked: %v", r)
			}
		}()
		done <- xla.AutoInstall()
	}()
	select {
	case err := <-done:
		if err != nil {
			return "", fmt.Sprintf("no XLA PJRT plugin installed and auto-install failed: %v", err)
		}
	case <-time.After(AutoInstallTimeout):
		return "", fmt.Sprintf("no XLA PJRT plugin installed and auto-install did not finish within %s", AutoInstallTimeout)
	}
	if plugin := installedPlugin(); plugin != "" {
		return xla.BackendName + ":" + plugin, ""
	}
	return "", "XLA auto-install finished but no PJRT plugin was found"
}

// installedPlugin returns the preferred installed PJRT plugin ("cuda", then
// "cpu", then any other), or "".
func installedPlugin() string {
	plugins := pjrt.AvailablePlugins()
	for _, name := range xla.DefaultPlugins {
		if _, ok := plugins[name]; ok {
			return name
		}
	}
	names := make([]string, 0, len(plugins))
	for name := range plugins {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
