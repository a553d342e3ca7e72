//go:build !linux

package main

// readCPUSample cannot read the machine's CPU time outside Linux.
func readCPUSample() cpuSample { return cpuSample{} }
