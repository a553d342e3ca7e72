package repocheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPicker opens the checkpoint picker of the executed
// notebooks/04_memory_analysis.ipynb (plots.DisplayPicker's HTML output, from
// $CMEMAE_EXECUTED_NOTEBOOKS) in headless Chromium without any kernel, picks
// another option the way a user does (select + change event) and checks that
// exactly one figure is visible before and after, and that it is the picked one.
//
// Enabled by CMEMAE_BROWSER_TEST=1 with CMEMAE_EXECUTED_NOTEBOOKS set (.ci/test.sh).
func TestBrowserPicker(t *testing.T) {
	if os.Getenv("CMEMAE_BROWSER_TEST") != "1" {
		t.Skip("CMEMAE_BROWSER_TEST is not 1: .ci/test.sh runs this test after .ci/install.sh")
	}
	dir := os.Getenv("CMEMAE_EXECUTED_NOTEBOOKS")
	if dir == "" {
		t.Skip("CMEMAE_EXECUTED_NOTEBOOKS is not set: .ci/test.sh sets it after executing the notebooks")
	}
	nb, err := ReadNotebook(filepath.Join(dir, "04_memory_analysis.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var picker string
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if h := string(o.Data["text/html"]); strings.Contains(h, `class="cmemae-picker"`) {
				picker = h
			}
		}
	}
	if picker == "" {
		t.Fatal("04_memory_analysis: no checkpoint picker (plots.DisplayPicker output) in any cell")
	}
	page := filepath.Join(t.TempDir(), "picker.html")
	if err := os.WriteFile(page, []byte("<!doctype html><html><body>"+picker+"</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	chromium := lookPath(t, "chromium", "/usr/bin/chromium")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		HeadlessOptions(chromium, filepath.Join(t.TempDir(), "profile"))...)
	defer cancelAlloc()
	browser, closeBrowser := chromedp.NewContext(allocCtx)
	defer closeBrowser()
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()

	type state struct {
		Options, Visible int
		Selected, Shown  string
		ImageWidth       int
	}
	read := `(() => {
		const p = document.querySelector(".cmemae-picker"), s = p.querySelector("select");
		const vis = [...p.querySelectorAll(":scope>div[data-option]")].filter(d => getComputedStyle(d).display !== "none");
		const img = vis.length ? vis[0].querySelector("img") : null;
		return {Options: s.options.length, Visible: vis.length, Selected: s.value,
			Shown: vis.length ? vis[0].dataset.option : "", ImageWidth: img && img.complete ? img.naturalWidth : 0};
	})()`
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page)); err != nil {
		t.Fatalf("opening the picker: %v", err)
	}
	before, err := chromedp.Run(ctx, chromedp.Evaluate[state](read))
	if err != nil {
		t.Fatalf("reading the picker: %v", err)
	}
	if before.Options < 2 || before.Visible != 1 || before.Shown != before.Selected || before.ImageWidth < 100 {
		t.Fatalf("picker as shown: %+v; want ≥ 2 options, one visible figure (the selected one, decoded)", before)
	}
	// Pick the first option (the default is the first class's last checkpoint).
	pick := `(() => { const s = document.querySelector(".cmemae-picker select");
		s.value = s.options[0].value === s.value ? s.options[1].value : s.options[0].value;
		s.dispatchEvent(new Event("change")); return s.value; })()`
	picked, err := chromedp.Run(ctx, chromedp.Evaluate[string](pick))
	if err != nil {
		t.Fatalf("picking another option: %v", err)
	}
	after, err := chromedp.Run(ctx, chromedp.Evaluate[state](read))
	if err != nil {
		t.Fatalf("reading the picker after the change: %v", err)
	}
	if after.Visible != 1 || after.Shown != picked || after.Shown == before.Shown || after.ImageWidth < 100 {
		t.Errorf("after picking option %s: %+v (before %+v); want its figure alone visible", picked, after, before)
	}
}
