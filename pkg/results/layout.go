package results

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"
)

// File and directory names inside a run directory.
const (
	ConfigFile     = "config.yaml"
	MetricsFile    = "metrics.csv"
	CheckpointsDir = "checkpoints"
)

// DefaultParams is the params slug of a configuration without swept or
// overridden parameters.
const DefaultParams = "default"

// maxSlugLen bounds the length of a params slug; longer slugs are shortened and
// suffixed with a hash of the full text so that they stay unique.
const maxSlugLen = 200

// TargetString joins target classes with "-": [1 7] → "1-7", [3] → "3".
func TargetString(targets []int) string { return JoinInts(targets, "-") }

// JoinInts writes integers joined by sep: JoinInts([]int64{1, 2}, ", ") is
// "1, 2".
func JoinInts[T ~int | ~int64](v []T, sep string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatInt(int64(x), 10)
	}
	return strings.Join(parts, sep)
}

// ParseTarget is the inverse of TargetString.
func ParseTarget(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("results: empty target")
	}
	parts := strings.Split(s, "-")
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("results: target %q: %w", s, err)
		}
		out[i] = v
	}
	return out, nil
}

// RunDir is the directory of one run:
// <resultsDir>/<experiment>/<params>/seed_<seed>/target_<targets>.
// An empty params slug is replaced by DefaultParams.
func RunDir(resultsDir, experiment, params string, seed int64, targets []int) string {
	if params == "" {
		params = DefaultParams
	}
	return filepath.Join(resultsDir, sanitize(experiment), params,
		"seed_"+strconv.FormatInt(seed, 10), "target_"+TargetString(targets))
}

// Param is one key=value pair that distinguishes a configuration, e.g.
// {"model.memory_size", "50"}.
type Param struct{ Key, Value string }

// ParamsSlug turns the distinguishing parameters of a configuration into a
// directory name, "key=value,key=value" in the given order ("default" when
// there are none). Characters that are awkward in paths are replaced by "_";
// slugs longer than 200 bytes are cut and suffixed with a hash of the full
// text, so different parameters always give different slugs.
func ParamsSlug(params []Param) string {
	if len(params) == 0 {
		return DefaultParams
	}
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.Key + "=" + p.Value
	}
	full := strings.Join(parts, ",")
	slug := sanitize(full)
	if len(slug) > maxSlugLen {
		h := fnv.New32a()
		h.Write([]byte(full))
		slug = fmt.Sprintf("%s~%08x", slug[:maxSlugLen-9], h.Sum32())
	}
	return slug
}

// sanitize replaces characters that are unsafe or awkward in a path component.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '/' || r == '\\' || r == ':' || r == '*' || r == '?' || r == '"' ||
			r == '<' || r == '>' || r == '|' || r == ' ' || r < 0x20:
			b.WriteByte('_')
		case r == '[' || r == ']':
			// Lists such as [copy_samples,freeze] read fine without brackets.
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if out == "" || out == "." || out == ".." {
		out = "_" + out
	}
	return out
}
