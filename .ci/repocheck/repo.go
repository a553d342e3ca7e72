package repocheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// ModulePath is the project's module path, used to recognise the repository root.
const ModulePath = "github.com/cmemae/cmemae"

// RepoRoot returns the repository root: the closest directory at or above dir whose
// go.mod declares [ModulePath].
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repocheck: locating the repository root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		content, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(content, []byte("module "+ModulePath+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("repocheck: no go.mod of %s at or above %s", ModulePath, dir)
		}
	}
}
