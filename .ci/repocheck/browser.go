package repocheck

import "github.com/chromedp/chromedp"

// HeadlessFlags are the Chromium command-line flags (without their "--") for a
// headless run on a closed network, as the browser test starts Debian's Chromium.
var HeadlessFlags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
	"disable-dev-shm-usage", "hide-scrollbars", "mute-audio",
}

// HeadlessOptions returns chromedp's allocator options that start the Chromium at
// chromiumPath with [HeadlessFlags] and a fresh profile in userDataDir. They replace
// chromedp's defaults (chromedp.DefaultExecAllocatorOptions) entirely, so the
// browser gets exactly these flags plus the DevTools pipe chromedp talks over.
func HeadlessOptions(chromiumPath, userDataDir string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(userDataDir)}
	for _, f := range HeadlessFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	return opts
}
