package main

import "testing"

// parseProcStat counts user, nice, system, irq, softirq and steal, not idle
// and iowait; a malformed line is refused.
func TestParseProcStat(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n"
	if got, ok := parseProcStat(stat); !ok || got != 161*clockTick {
		t.Errorf("parseProcStat = %v, %v; want %v", got, ok, 161*clockTick)
	}
	for _, bad := range []string{"", "cpu 1 2 3", "intr 1 2 3 4 5 6 7 8 9", "cpu 1 2 x 4 5 6 7 8 9"} {
		if _, ok := parseProcStat(bad); ok {
			t.Errorf("parseProcStat(%q): want ok = false", bad)
		}
	}
	if s := readCPUSample(); !s.ok || s.busy <= 0 || s.own <= 0 {
		t.Errorf("readCPUSample() = %+v", s)
	}
}
