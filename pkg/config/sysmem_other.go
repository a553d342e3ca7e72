//go:build !linux

package config

// physicalMemory is the machine's RAM in bytes, 0 if unknown.
func physicalMemory() float64 { return 0 }
