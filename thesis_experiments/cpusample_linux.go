package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// readCPUSample reads the machine's busy CPU time from /proc/stat and this
// process's from getrusage.
func readCPUSample() cpuSample {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	busy, ok := parseProcStat(string(raw))
	var ru syscall.Rusage
	if !ok || syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return cpuSample{}
	}
	own := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpuSample{at: time.Now(), busy: busy, own: own, ok: true}
}

// clockTick is Linux's USER_HZ, the unit of /proc/stat: 100 on every
// architecture Go supports (sysconf(_SC_CLK_TCK) needs cgo).
const clockTick = 10 * time.Millisecond

// parseProcStat returns the non-idle time of all cores from /proc/stat's
// first line, "cpu user nice system idle iowait irq softirq steal …" (guest
// time is already counted in user).
func parseProcStat(stat string) (time.Duration, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks uint64
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 { // idle, iowait
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick, true
}
