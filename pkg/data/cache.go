package data

import (
	"fmt"
	"os"
	"sync"
)

// cache holds the datasets loaded by LoadCached for the life of the process.
var cache sync.Map // cacheKey → *cacheEntry

// cacheKey is what determines a loaded dataset: its name, split and where its
// files are looked for (the data directory, or the environment variable that
// names it when the directory is left empty).
type cacheKey struct {
	name    string
	split   Split
	dataDir string
}

type cacheEntry struct {
	once sync.Once
	d    *Dataset
	err  error
}

// LoadCached is Load for datasets that many runs share (sweeps, notebooks):
// each (name, split, data directory) is loaded once per process and the same
// read-only *Dataset is returned afterwards. A failed load is not cached.
// opts.Progress is used by the call that loads.
func LoadCached(name string, split Split, opts LoadOptions) (*Dataset, error) {
	dir := opts.DataDir
	if dir == "" {
		dir = "$" + EnvDataDir + "=" + os.Getenv(EnvDataDir)
	}
	key := cacheKey{name: name, split: split, dataDir: dir}
	v, _ := cache.LoadOrStore(key, &cacheEntry{})
	e := v.(*cacheEntry)
	e.once.Do(func() { e.d, e.err = Load(name, split, opts) })
	if e.err == nil {
		return e.d, nil
	}
	// Forget the failure so that a later call (after the user fixed the data
	// directory) tries again; report this one.
	cache.CompareAndDelete(key, e)
	return nil, fmt.Errorf("loading %s %v data: %w", name, split, e.err)
}
