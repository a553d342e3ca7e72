package config

import (
	"fmt"
	"strings"
)

// levenshtein is the edit distance between a and b (insertions, deletions,
// substitutions; bytes).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nearest returns the candidate closest to s, or "" if none is plausibly
// meant: a candidate whose last dotted component equals s (memory_size →
// model.memory_size) wins; otherwise the smallest edit distance, if it is at
// most max(2, len(s)/3).
func nearest(s string, candidates []string) string {
	for _, c := range candidates {
		if i := strings.LastIndexByte(c, '.'); i >= 0 && c[i+1:] == s {
			return c
		}
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	return ""
}

// unknownError formats "unknown <what> "s" (did you mean "x"?; valid: a, b)".
func unknownError(what, s string, valid []string, listValid bool) error {
	msg := fmt.Sprintf("config: unknown %s %q", what, s)
	if n := nearest(s, valid); n != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", n)
	}
	if listValid {
		msg += "; valid: " + strings.Join(valid, ", ")
	}
	return fmt.Errorf("%s", msg)
}
