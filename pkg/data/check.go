package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A data directory is checked file by file before it is used, so that a
// file that exists but cannot be read (a directory, a symbolic link loop,
// no permission) is reported with its real cause instead of "not found", and
// a directory holding only some of a dataset's files is not silently
// completed from another copy.

// badFileError is a dataset file that exists but cannot be used.
type badFileError struct {
	path string
	err  error
}

func (e *badFileError) Error() string {
	return fmt.Sprintf("%s cannot be used: %v", e.path, e.err)
}

func (e *badFileError) Unwrap() error { return e.err }

// openFile is os.Open; tests replace it (they run as root, whom file
// permissions do not stop).
var openFile = os.Open

// usable checks that path is a readable regular file. It returns (false, nil)
// if nothing is there, and an error if something is there that cannot be read.
func usable(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, lerr := os.Lstat(path); lerr == nil {
				return false, &badFileError{path, errors.New("a symbolic link to a missing file")}
			}
			return false, nil
		}
		if errors.Is(err, syscall.ENOTDIR) {
			return false, &badFileError{path, fmt.Errorf("%s is a file, not a directory", fileAncestor(path))}
		}
		return false, &badFileError{path, statCause(err)}
	}
	if st.IsDir() {
		return false, &badFileError{path, errors.New("it is a directory, not a file")}
	}
	if !st.Mode().IsRegular() {
		return false, &badFileError{path, fmt.Errorf("not a regular file (%s)", st.Mode().Type())}
	}
	f, err := openFile(path)
	if err != nil {
		return false, &badFileError{path, statCause(err)}
	}
	f.Close()
	return true, nil
}

// fileAncestor returns the nearest parent of path that exists and is not a
// directory (the reason for ENOTDIR).
func fileAncestor(path string) string {
	for d := filepath.Dir(path); d != filepath.Dir(d); d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && !st.IsDir() {
			return d
		}
	}
	return filepath.Dir(path)
}

// statCause unwraps a *PathError (its path is already in the message) and
// adds a hint for the common causes.
func statCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (make it readable, e.g. chmod a+r, and its directories a+x)", err)
	case strings.Contains(err.Error(), "too many levels of symbolic links"):
		return fmt.Errorf("%w (a symbolic link loop)", err)
	}
	return err
}

// checkSplit reports the files of split in dir: the paths of missing files
// (for IDX the .gz name) and the first file that exists but cannot be used.
func checkSplit(sp *spec, dir string, split Split) (missing []string, bad error) {
	for _, name := range sp.files[split] {
		candidates := []string{filepath.Join(dir, name)}
		if sp.format == formatIDX {
			candidates = append(candidates, filepath.Join(dir, name+".gz"))
		}
		found := false
		var firstBad error
		for _, p := range candidates {
			ok, err := usable(p)
			if ok {
				found = true
				break
			}
			if err != nil && firstBad == nil {
				firstBad = err
			}
		}
		switch {
		case found:
		case firstBad != nil:
			if bad == nil {
				bad = firstBad
			}
		default:
			missing = append(missing, candidates[len(candidates)-1])
		}
	}
	return missing, bad
}

// presentFiles lists the files of the dataset (any split) found in dir, as
// paths; links and unreadable entries count as present.
func presentFiles(sp *spec, dir string) []string {
	var out []string
	for _, split := range []Split{Train, Test} {
		for _, name := range sp.files[split] {
			names := []string{name}
			if sp.format == formatIDX {
				names = append(names, name+".gz")
			}
			for _, n := range names {
				p := filepath.Join(dir, n)
				if _, err := os.Lstat(p); err == nil {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// ourDownload reports whether the present files of a partial directory are
// what this package downloads itself (an interrupted download the next
// download completes): IDX .gz files with the published checksums, or, for an
// archive dataset, the verified archive still lying in the data directory.
func ourDownload(sp *spec, root string, present []string) bool {
	if sp.archive {
		sum, err := fileMD5(filepath.Join(root, sp.remote[0].name))
		return err == nil && sum == sp.remote[0].md5
	}
	for _, p := range present {
		base := filepath.Base(p)
		want := ""
		for _, r := range sp.remote {
			if r.name == base {
				want = r.md5
			}
		}
		if want == "" {
			return false
		}
		if sum, err := fileMD5(p); err != nil || sum != want {
			return false
		}
	}
	return true
}

// partialError explains a data directory that holds some of a dataset's
// files but not those of split.
func partialError(sp *spec, dir string, split Split, present, missing []string) error {
	return fmt.Errorf("data: %s holds %s files (%s) but lacks the %s split's %s; "+
		"files are never mixed from different places: put all of %s there, or remove them to use the built-in or downloaded copy",
		dir, sp.name, strings.Join(baseNames(present), ", "), split, strings.Join(missing, ", "),
		strings.Join(append(append([]string{}, sp.files[Train]...), sp.files[Test]...), ", "))
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
