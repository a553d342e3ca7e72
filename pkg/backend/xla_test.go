//go:build cgo && !noxla && ((linux && (amd64 || arm64)) || (darwin && arm64))

package backend

func probeInstalledOnly() string { return installedPlugin() }
