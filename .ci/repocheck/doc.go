// Package repocheck holds the repository's own consistency checks, run by CI
// (`bash .ci/test.sh`) as ordinary Go tests. It is a Go module of its own
// (.ci/repocheck/go.mod), so its dependencies (BuildKit's Dockerfile parser, chromedp)
// are not the project's; it reads the project's files from the repository root
// ([RepoRoot]) and imports none of its packages. Run it with
//
//	cd .ci/repocheck && go test ./...
//
// The checks:
//
//   - Dockerfile static checks (no Docker engine is needed): the Dockerfile at the
//     top of the repository is parsed with the official BuildKit parser
//     (github.com/moby/buildkit/frontend/dockerfile/parser) and checked by
//     [CheckDockerfile]: it is multi-stage, its final stage runs as a non-root USER,
//     every version is pinned (no "@latest", no ":latest" or untagged images, every
//     ARG has a default, go install/run at vX.Y.Z, pip packages with ==, apt-get
//     install only in stages that read a dated archive snapshot), every COPY/ADD
//     source from the build context exists in the repository, GoNB is installed through .ci/install-gonb.sh
//     (the same script CI runs) with the kernel's go.work using the project
//     (GONB_GO_WORK), the project (go.mod + notebooks/) is copied into one
//     directory so the notebooks' go.work set-up finds it, port 8888 is exposed and a
//     HEALTHCHECK is declared.
//
//   - Executed-notebook checks, by [CheckExecutedNotebook]: CI executes every
//     notebooks/*.ipynb headless (jupyter nbconvert --execute) in the quick budget,
//     then runs TestExecutedNotebooks with CMEMAE_EXECUTED_NOTEBOOKS set to the
//     directory holding the executed copies (the test skips when it is unset).
//
//   - A real-browser test (TestBrowserRunsQuickstart, enabled by CMEMAE_BROWSER_TEST=1):
//     Debian's classic Jupyter Notebook server with the GoNB kernel, on loopback,
//     opened in headless Chromium ([HeadlessFlags]) driven over the DevTools protocol
//     by chromedp (github.com/chromedp/chromedp); the test clicks "Cell > Run All" on
//     notebooks/00_quickstart.ipynb, waits for the kernel, checks the rendered page has
//     a plot in an output area and saves screenshots.
//
// # Rules notebooks follow (checked here)
//
// Notebook set-up cell. The first code cell of every notebook makes the project
// importable with a go.work that uses the repository root, which is the parent of
// the notebook's directory (GoNB sets GONB_DIR to the directory of the notebook):
//
//	!*rm -f go.work && go work init && go work use . "${GONB_DIR}/.."
//
// The check ([CheckNotebookSetup]) asks for "go work" and "${GONB_DIR}/.." in the
// first code cell. The Docker image keeps notebooks/ next to go.mod, as here.
//
// Figure cells. A code cell is a "figure cell" when its source calls one of the
// pkg/plots functions that show a figure inline ([FigureFuncs]: plots.Display,
// plots.DisplayChart, ...; TestFigureFuncs keeps the list equal to pkg/plots's
// exported functions taking a *Figure) or when its metadata has the tag "figure". After execution every figure cell must
// have at least one image output: a display_data / execute_result / update_display_data
// whose data holds "image/png" or "image/svg+xml", or "text/html" containing an
// "<svg" element or an "<img" element (GoNB's gonbui.DisplaySVG sends SVG as HTML).
//
// Errors. No cell may have an output of type "error", and no stderr stream may
// contain "exit status " (how a failing "!shell" line shows up: nbconvert does not
// fail on it) or "panic:" (a Go panic in a cell).
//
// Budget. CI runs notebooks with CMEMAE_BUDGET=quick in the environment; notebooks
// read it (default "quick") to pick the small budget.
package repocheck
