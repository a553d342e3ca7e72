package repocheck

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestBrowserRunsQuickstart runs notebooks/00_quickstart.ipynb (or $CMEMAE_BROWSER_NOTEBOOK,
// relative to the repository root) in a real browser: Debian's classic Jupyter Notebook
// server with the GoNB kernel on loopback, headless Chromium clicking "Cell > Run All",
// then checks the rendered page shows a plot, no error output, and saves screenshots in
// $CMEMAE_ARTIFACTS_DIR (default notebooks/executed/).
//
// Enabled by CMEMAE_BROWSER_TEST=1 (.ci/test.sh sets it); needs jupyter-notebook,
// chromium and the GoNB kernel installed (.ci/install.sh).
func TestBrowserRunsQuickstart(t *testing.T) {
	if os.Getenv("CMEMAE_BROWSER_TEST") != "1" {
		t.Skip("CMEMAE_BROWSER_TEST is not 1: .ci/test.sh runs this test after .ci/install.sh")
	}
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	nbRel := os.Getenv("CMEMAE_BROWSER_NOTEBOOK")
	if nbRel == "" {
		nbRel = "notebooks/00_quickstart.ipynb"
	}
	if _, err := os.Stat(filepath.Join(root, nbRel)); err != nil {
		t.Fatalf("notebook to run: %v", err)
	}
	artifacts := os.Getenv("CMEMAE_ARTIFACTS_DIR")
	if artifacts == "" {
		artifacts = filepath.Join(root, "notebooks", "executed")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	stem := strings.TrimSuffix(filepath.Base(nbRel), ".ipynb")
	timeout := 20 * time.Minute
	if s := os.Getenv("CMEMAE_BROWSER_TIMEOUT"); s != "" {
		if timeout, err = time.ParseDuration(s); err != nil {
			t.Fatalf("CMEMAE_BROWSER_TIMEOUT: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	chromium := lookPath(t, "chromium", "/usr/bin/chromium")
	base, token, work := notebookServer(t, ctx, root, filepath.Join(artifacts, "browser-"+stem+"-jupyter.log"),
		"CMEMAE_BUDGET=quick", "CMEMAE_RESULTS_DIR=") // the notebook trains, into its scratch copy

	// Headless Chromium, driven by chromedp over the DevTools protocol.
	chromeLog, err := os.Create(filepath.Join(artifacts, "browser-"+stem+"-chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer chromeLog.Close()
	opts := append(HeadlessOptions(chromium, filepath.Join(work, "chromium-profile")),
		chromedp.WindowSize(1280, 1000), chromedp.CombinedOutput(chromeLog))
	// The browser lives until the test returns (not only until ctx ends), so a
	// screenshot can still be taken after a timeout.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, closeBrowser := chromedp.NewContext(allocCtx)
	defer closeBrowser()
	var (
		jsErrorsMu sync.Mutex
		jsErrors   []string
	)
	if err := chromedp.Listen(browser, func(ev any) {
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok && e.ExceptionDetails != nil {
			jsErrorsMu.Lock()
			d := e.ExceptionDetails
			msg := fmt.Sprintf("%s (%s:%d:%d)", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
			if d.Exception != nil {
				msg += ": " + d.Exception.Description
			}
			jsErrors = append(jsErrors, msg)
			jsErrorsMu.Unlock()
		}
	}); err != nil {
		t.Fatalf("starting chromium %s: %v (its log: %s)", chromium, err, chromeLog.Name())
	}
	page, cancelPage := context.WithTimeout(browser, time.Until(deadline(ctx)))
	defer cancelPage()
	url := fmt.Sprintf("%s/notebooks/%s?token=%s", base, filepath.ToSlash(nbRel), token)
	if err := chromedp.Do(page, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", nbRel, err)
	}

	// Wait for the notebook UI and a connected, idle GoNB kernel.
	if _, err := chromedp.Run(page, chromedp.Poll[bool](`(() => {
		const nb = window.Jupyter && Jupyter.notebook;
		return !!(nb && nb.kernel && nb.kernel.is_connected() && nb.kernel.name === "gonb" &&
			document.querySelector("#kernel_indicator_icon.kernel_idle_icon"));
	})()`, chromedp.WithPollingInterval(time.Second), chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
		saveScreenshot(t, page, filepath.Join(artifacts, "screenshot-"+stem+"-no-kernel.png"), "")
		t.Fatalf("waiting for the notebook page with an idle GoNB kernel: %v", err)
	}

	// Cell > Run All, with real mouse clicks on the menu (chromedp.Click clicks the
	// centre of the visible element).
	cellMenu := chromedp.JSPath(`[...document.querySelectorAll("#menus .dropdown-toggle")].find(a => a.textContent.trim() === "Cell")`)
	if err := chromedp.Do(page,
		chromedp.Click(cellMenu),
		chromedp.Click(chromedp.CSS("#run_all_cells > a")),
	); err != nil {
		t.Fatalf(`clicking "Cell > Run All": %v`, err)
	}
	started := time.Now()
	t.Logf(`clicked "Cell > Run All" in %s`, nbRel)

	// Wait until every non-empty code cell has run and the kernel is idle.
	type progress struct {
		Total, Done, Running int
		Idle                 bool
	}
	var last progress
	stable := 0
	for {
		p, err := chromedp.Run(page, chromedp.Evaluate[progress](`(() => {
			const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === "code" && c.get_text().trim() !== "");
			const n = (c) => c.input_prompt_number;
			return {Total: cells.length,
				Done: cells.filter(c => typeof n(c) === "number").length,
				Running: cells.filter(c => n(c) === "*").length,
				Idle: !!document.querySelector("#kernel_indicator_icon.kernel_idle_icon")};
		})()`))
		if err != nil {
			t.Fatalf("reading the notebook's progress: %v", err)
		}
		if p != last {
			t.Logf("%5.0fs: %d/%d code cells done, %d running, kernel idle=%v", time.Since(started).Seconds(), p.Done, p.Total, p.Running, p.Idle)
			last = p
		}
		if p.Done == p.Total && p.Running == 0 && p.Idle {
			stable++
			if stable >= 2 {
				break
			}
		} else {
			stable = 0
		}
		select {
		case <-page.Done():
			saveScreenshot(t, page, filepath.Join(artifacts, "screenshot-"+stem+"-timeout.png"), "")
			t.Fatalf("notebook did not finish within %s: %+v", timeout, p)
		case <-time.After(2 * time.Second):
		}
	}
	t.Logf("all cells ran in %s", time.Since(started).Round(time.Second))

	// What the page shows: plots in output areas, no errors. The first plot gets an
	// id, so it can be captured on its own.
	type plotRect struct{ X, Y, Width, Height float64 }
	shown, err := chromedp.Run(page, chromedp.Evaluate[struct {
		Images         int
		Errors         []string
		StderrFailures []string
		Plot           *plotRect
	}](`(() => {
		const imgs = [...document.querySelectorAll(".output_area img, .output_area svg")].filter(e => {
			const r = e.getBoundingClientRect();
			return r.width > 50 && r.height > 50 && (e.tagName.toLowerCase() !== "img" || (e.complete && e.naturalWidth > 0));
		});
		const errs = [...document.querySelectorAll(".output_area .output_error")].map(e => e.innerText.slice(0, 500));
		const stderr = [...document.querySelectorAll(".output_area .output_stderr")].map(e => e.innerText)
			.filter(s => s.includes("exit status ") || s.includes("panic:")).map(s => s.slice(0, 500));
		let plot = null;
		if (imgs.length > 0) {
			imgs[0].id = "`+plotID+`";
			imgs[0].scrollIntoView({block: "center"});
			const r = imgs[0].getBoundingClientRect();
			plot = {X: r.x + window.scrollX, Y: r.y + window.scrollY, Width: r.width, Height: r.height};
		}
		return {Images: imgs.length, Errors: errs, StderrFailures: stderr, Plot: plot};
	})()`))
	if err != nil {
		t.Fatalf("reading the rendered outputs: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	saveScreenshot(t, page, filepath.Join(artifacts, "screenshot-"+stem+".png"), "")
	if dom, err := chromedp.Run(page, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		_ = os.WriteFile(filepath.Join(artifacts, "dom-"+stem+".html"), []byte(dom), 0o644)
	}
	for _, e := range shown.Errors {
		t.Errorf("error output in the page: %s", e)
	}
	for _, e := range shown.StderrFailures {
		t.Errorf("failure on stderr in the page: %s", e)
	}
	jsErrorsMu.Lock()
	for _, e := range jsErrors {
		t.Logf("javascript exception: %s", e)
	}
	jsErrorsMu.Unlock()
	if shown.Images == 0 || shown.Plot == nil {
		t.Fatal("no rendered plot (<img>/<svg> larger than 50×50 px) in any output area")
	}
	t.Logf("%d rendered plot(s) in output areas; first at %+v", shown.Images, *shown.Plot)

	// The plot itself, cropped from the page: it must be a real picture, not blank.
	plotPNG := saveScreenshot(t, page, filepath.Join(artifacts, "screenshot-"+stem+"-plot.png"), plotID)
	img, err := png.Decode(bytes.NewReader(plotPNG))
	if err != nil {
		t.Fatalf("decoding the plot screenshot: %v", err)
	}
	colours, nonWhite := imageStats(img)
	t.Logf("plot screenshot %dx%d: %d distinct colours, %.1f%% non-white pixels",
		img.Bounds().Dx(), img.Bounds().Dy(), colours, 100*nonWhite)
	if colours < 8 || nonWhite < 0.01 {
		t.Errorf("plot screenshot looks blank: %d colours, %.2f%% non-white", colours, 100*nonWhite)
	}
}

// deadline returns ctx's deadline (the test sets one).
func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Hour)
	}
	return d
}

// plotID is the element id the test gives the first rendered plot.
const plotID = "cmemae-first-plot"

// imageStats returns the number of distinct colours and the fraction of pixels that
// are not (near) white.
func imageStats(img image.Image) (colours int, nonWhite float64) {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				n++
			}
		}
	}
	return len(seen), float64(n) / float64(max(1, b.Dx()*b.Dy()))
}

func TestImageStats(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Pix[0], img.Pix[1], img.Pix[2] = 0, 0, 0 // one black pixel
	colours, nonWhite := imageStats(img)
	if colours != 2 || nonWhite != 0.01 {
		t.Errorf("imageStats = %d colours, %v non-white; want 2, 0.01", colours, nonWhite)
	}
}

// saveScreenshot saves a PNG of the viewport, or of the element with id elementID when
// it is not empty, and returns it. It works on a fresh 30 s context derived from the
// browser's, so it still works after the test's own deadline passed.
func saveScreenshot(t *testing.T, page context.Context, path, elementID string) []byte {
	t.Helper()
	shot := chromedp.CaptureScreenshot()
	if elementID != "" {
		shot = chromedp.Screenshot(chromedp.ID(elementID))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(page), 30*time.Second)
	defer cancel()
	data, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Errorf("screenshot %s: %v", path, err)
		return nil
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("saving screenshot: %v", err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(data))
	return data
}

func waitHTTP(t *testing.T, ctx context.Context, url string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("HTTP %s", resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("notebook server not answering %s after %s: %v", strings.Split(url, "?")[0], limit, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func lookPath(t *testing.T, name, fallback string) string {
	t.Helper()
	if _, err := os.Stat(fallback); err == nil {
		return fallback // Debian's, not e.g. a pyenv shim without Jupyter
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (install it with .ci/install.sh): %v", name, err)
	}
	return p
}

// copyProject copies the project's sources (not .git, results, data, executed
// notebooks or other scratch) from root to dst.
func copyProject(root, dst string) error {
	skip := map[string]bool{".git": true, "results": true, "data": true, filepath.Join("notebooks", "executed"): true}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && (skip[rel] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, ".test") {
			return nil
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), content, 0o644)
	})
}

// notebookServer starts Debian's classic Jupyter Notebook server with the GoNB
// kernel on loopback, with a random token, serving a scratch copy of the project
// (the server saves notebooks, and the notebooks' go.work uses "${GONB_DIR}/..",
// so the copy keeps the repository layout), and stops it (and its kernels) when
// the test ends. env is added to the server's environment; "CMEMAE_RESULTS_DIR="
// becomes a fresh results directory in the scratch space. The server's output
// goes to logPath. It returns the base URL, the token and the scratch directory.
func notebookServer(t *testing.T, ctx context.Context, root, logPath string, env ...string) (base, token, work string) {
	t.Helper()
	work = t.TempDir()
	project := filepath.Join(work, "cmemae")
	if err := copyProject(root, project); err != nil {
		t.Fatal(err)
	}
	jupyter := lookPath(t, "jupyter", "/usr/bin/jupyter")
	if out, err := exec.Command(jupyter, "kernelspec", "list").CombinedOutput(); err != nil || !bytes.Contains(out, []byte("gonb")) {
		t.Fatalf("GoNB kernel not registered (run .ci/install.sh; JUPYTER_DATA_DIR=%q): %v\n%s", os.Getenv("JUPYTER_DATA_DIR"), err, out)
	}
	port := freePort(t)
	tokenBytes := make([]byte, 16)
	if _, err := rand.Read(tokenBytes); err != nil {
		t.Fatal(err)
	}
	token = hex.EncodeToString(tokenBytes)
	// A rerun keeps the log of the attempt before it (a flaky failure's
	// evidence), and a failed test prints the end of its log.
	_ = os.Rename(logPath, strings.TrimSuffix(logPath, ".log")+".previous.log")
	serverLog, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	server := exec.Command(jupyter, "notebook", "--no-browser", "--ip=127.0.0.1",
		fmt.Sprintf("--port=%d", port), "--port-retries=0",
		"--NotebookApp.token="+token, "--NotebookApp.password=",
		"--notebook-dir="+project)
	if os.Geteuid() == 0 {
		server.Args = append(server.Args, "--allow-root") // CI containers run as root
	}
	server.Env = append(os.Environ(),
		"JUPYTER_CONFIG_DIR="+filepath.Join(work, "jupyter-config"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(work, "jupyter-runtime"))
	for _, kv := range env {
		if kv == "CMEMAE_RESULTS_DIR=" {
			kv += filepath.Join(work, "results")
		}
		server.Env = append(server.Env, kv)
	}
	if os.Getenv("GOMLX_BACKEND") == "" {
		server.Env = append(server.Env, "GOMLX_BACKEND=go")
	}
	server.Stdout, server.Stderr = serverLog, serverLog
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kernels are its children
	if err := server.Start(); err != nil {
		t.Fatalf("starting the notebook server: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			<-done
		}
		serverLog.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
				t.Logf("the last %d lines of the notebook server's log (GoNB's included), %s:\n%s",
					min(80, len(lines)), logPath, strings.Join(lines[max(0, len(lines)-80):], "\n"))
			}
		}
	})
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, ctx, base+"/api/status?token="+token, 90*time.Second)
	t.Logf("notebook server up at %s (log: %s)", base, logPath)
	return base, token, work
}

// browserConsole holds the page's uncaught exceptions and console errors and
// warnings (the first 200), as logBrowserConsoleOnFailure records them.
type browserConsole struct {
	mu    sync.Mutex
	lines []string
}

func (c *browserConsole) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) < 200 {
		c.lines = append(c.lines, time.Now().Format("15:04:05 ")+s)
	}
}

// Contains reports whether a recorded line contains s.
func (c *browserConsole) Contains(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.lines, func(l string) bool { return strings.Contains(l, s) })
}

// logBrowserConsoleOnFailure records the page's uncaught exceptions and
// console errors and warnings, and prints them if the test fails: the
// evidence for a front end that never answered (e.g. widgets whose comm
// never opened).
func logBrowserConsoleOnFailure(t *testing.T, browser context.Context) *browserConsole {
	t.Helper()
	c := &browserConsole{}
	add := c.add
	if err := chromedp.Listen(browser, func(ev any) {
		switch e := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			if d := e.ExceptionDetails; d != nil {
				msg := fmt.Sprintf("exception: %s (%s:%d)", d.Text, d.URL, d.LineNumber+1)
				if d.Exception != nil {
					msg += ": " + d.Exception.Description
				}
				add(msg)
			}
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range e.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, string(a.Value))
					}
				}
				add(fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
			}
		}
	}); err != nil {
		t.Logf("listening to the browser console: %v", err)
		return c
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.Failed() && len(c.lines) > 0 {
			t.Logf("the browser console (errors and warnings):\n%s", strings.Join(c.lines, "\n"))
		}
	})
	return c
}
