//go:build cgo && !noxla && ((linux && (amd64 || arm64)) || (darwin && arm64))

package backend

import (
	"bufio"
	"debug/elf"
	"debug/macho"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// A PJRT plugin file that cannot be loaded (not a shared library, truncated,
// a directory) makes go-xla v0.4.13 dereference a nil library handle while
// it lists the plugins; the cause is only logged. brokenPlugins finds such
// files itself, so that the error can name the file and the reason.

// pluginDirs are the directories go-xla searches for PJRT plugins:
// $PJRT_PLUGIN_LIBRARY_PATH, else its defaults, $LD_LIBRARY_PATH and the
// directories of /etc/ld.so.conf.
func pluginDirs() []string {
	if env, ok := os.LookupEnv("PJRT_PLUGIN_LIBRARY_PATH"); ok {
		return slices.DeleteFunc(strings.Split(env, ":"), func(s string) bool { return s == "" })
	}
	var dirs []string
	if home, err := os.UserHomeDir(); err == nil {
		base := filepath.Join(home, ".local", "lib", "go-xla")
		dirs = append(dirs, base, filepath.Join(base, "nvidia"), filepath.Join(home, ".local", "lib", "gomlx", "pjrt"))
	}
	dirs = append(dirs, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia", "/usr/local/lib/gomlx/pjrt")
	for _, p := range strings.Split(os.Getenv("LD_LIBRARY_PATH"), ":") {
		if filepath.IsAbs(p) {
			dirs = append(dirs, p)
		}
	}
	return append(dirs, ldSoConfDirs("/etc/ld.so.conf", 0)...)
}

// ldSoConfDirs reads the absolute directories of an ld.so.conf file,
// following "include" lines.
func ldSoConfDirs(path string, depth int) []string {
	f, err := os.Open(path)
	if err != nil || depth > 4 {
		return nil
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if inc, ok := strings.CutPrefix(line, "include "); ok {
			matches, _ := filepath.Glob(strings.TrimSpace(inc))
			for _, m := range matches {
				dirs = append(dirs, ldSoConfDirs(m, depth+1)...)
			}
			continue
		}
		if filepath.IsAbs(line) {
			dirs = append(dirs, line)
		}
	}
	return dirs
}

// brokenPlugins returns one line per PJRT plugin file in the search
// directories that is not a loadable shared library for this platform.
func brokenPlugins() []string {
	var out []string
	seen := map[string]bool{}
	for _, dir := range pluginDirs() {
		for _, pattern := range []string{"pjrt-plugin-*", "pjrt_plugin_*", "pjrt_c_api_*_plugin.*"} {
			matches, _ := filepath.Glob(filepath.Join(dir, pattern))
			for _, m := range matches {
				if seen[m] || !(strings.HasSuffix(m, ".so") || strings.HasSuffix(m, ".dylib")) {
					continue
				}
				seen[m] = true
				if err := checkSharedLibrary(m); err != nil {
					out = append(out, fmt.Sprintf("%s is not a valid shared library (%v)", m, err))
				}
			}
		}
	}
	return out
}

// checkSharedLibrary opens path as an ELF (Linux) or Mach-O (macOS) file.
func checkSharedLibrary(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if runtime.GOOS == "darwin" {
		f, err := macho.Open(path)
		if err != nil {
			return err
		}
		return f.Close()
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		return fmt.Errorf("ELF type %v, not a shared object", f.Type)
	}
	return nil
}

// diagnosePlugins explains a failure of the XLA backend: the broken plugin
// files, with how to fix them, or "" if none is found.
func diagnosePlugins() string {
	broken := brokenPlugins()
	if len(broken) == 0 {
		return ""
	}
	return "broken PJRT plugin: " + strings.Join(broken, "; ") +
		"; delete or reinstall it (https://github.com/gomlx/go-xla), or use the pure-Go backend with " + EnvVar + "=go"
}

func init() { xlaDiagnose = diagnosePlugins }
