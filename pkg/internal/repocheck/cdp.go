package repocheck

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// Browser is a headless Chromium driven over the Chrome DevTools Protocol, through
// the --remote-debugging-pipe file descriptors (3: commands in, 4: replies out), so no
// WebSocket client is needed.
type Browser struct {
	cmd      *exec.Cmd
	toChrome *os.File
	mu       sync.Mutex
	nextID   int64
	waiting  map[int64]chan cdpMessage
	done     chan struct{}
	readErr  error
	// Events receives the protocol events (console messages, exceptions...), when non-nil.
	Events func(method string, params json.RawMessage)
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// HeadlessFlags are the Chromium flags for a headless run on a closed network.
var HeadlessFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
}

// StartBrowser starts chromiumPath with a fresh profile in userDataDir and a window of
// width×height pixels. stderr receives Chromium's own log.
func StartBrowser(chromiumPath, userDataDir string, width, height int, stderr io.Writer) (*Browser, error) {
	cmdIn, toChrome, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("repocheck: pipe for chromium: %w", err)
	}
	fromChrome, cmdOut, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("repocheck: pipe for chromium: %w", err)
	}
	args := append([]string{}, HeadlessFlags...)
	args = append(args, "--remote-debugging-pipe", "--user-data-dir="+userDataDir,
		fmt.Sprintf("--window-size=%d,%d", width, height), "about:blank")
	cmd := exec.Command(chromiumPath, args...)
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut} // fd 3, fd 4
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("repocheck: starting %s: %w", chromiumPath, err)
	}
	_ = cmdIn.Close()
	_ = cmdOut.Close()
	b := &Browser{cmd: cmd, toChrome: toChrome, waiting: map[int64]chan cdpMessage{}, done: make(chan struct{})}
	go b.readLoop(fromChrome)
	return b, nil
}

func (b *Browser) readLoop(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = fmt.Errorf("repocheck: reading from chromium: %w", err)
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var msg cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &msg); err != nil {
			continue
		}
		if msg.ID == 0 {
			if b.Events != nil {
				b.Events(msg.Method, msg.Params)
			}
			continue
		}
		b.mu.Lock()
		ch := b.waiting[msg.ID]
		delete(b.waiting, msg.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- msg
		}
	}
}

// Call sends a protocol command (to the page session when sessionID is not empty) and
// decodes its result into result (may be nil).
func (b *Browser) Call(ctx context.Context, sessionID, method string, params any, result any) error {
	if params == nil {
		params = struct{}{}
	}
	p, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("repocheck: %s params: %w", method, err)
	}
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	b.waiting[id] = ch
	msg, _ := json.Marshal(cdpMessage{ID: id, Method: method, Params: p, SessionID: sessionID})
	_, err = b.toChrome.Write(append(msg, 0))
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("repocheck: sending %s: %w", method, err)
	}
	select {
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.waiting, id)
		b.mu.Unlock()
		return fmt.Errorf("repocheck: %s: %w", method, ctx.Err())
	case reply, ok := <-ch:
		if !ok {
			return fmt.Errorf("repocheck: %s: chromium closed the pipe", method)
		}
		if reply.Error != nil {
			return fmt.Errorf("repocheck: %s: %s (code %d)", method, reply.Error.Message, reply.Error.Code)
		}
		if result != nil {
			if err := json.Unmarshal(reply.Result, result); err != nil {
				return fmt.Errorf("repocheck: %s result: %w", method, err)
			}
		}
		return nil
	}
}

// Close asks Chromium to exit and waits for it (killing it if it lingers).
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	_ = b.Call(ctx, "", "Browser.close", nil, nil)
	_ = b.toChrome.Close()
	waitErr := make(chan error, 1)
	go func() { waitErr <- b.cmd.Wait() }()
	select {
	case err := <-waitErr:
		return err
	case <-ctx.Done():
		_ = b.cmd.Process.Kill()
		return <-waitErr
	}
}

// Page is one browser tab attached with a flat protocol session.
type Page struct {
	B         *Browser
	SessionID string
}

// NewPage opens a tab and attaches to it.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	p := &Page{B: b, SessionID: attached.SessionID}
	for _, domain := range []string{"Page.enable", "Runtime.enable"} {
		if err := p.Call(ctx, domain, nil, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Call sends a command to the page's session.
func (p *Page) Call(ctx context.Context, method string, params any, result any) error {
	return p.B.Call(ctx, p.SessionID, method, params, result)
}

// Eval evaluates a JavaScript expression in the page (awaiting promises) and decodes
// its JSON value into result (may be nil).
func (p *Page) Eval(ctx context.Context, expression string, result any) error {
	var reply struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.Call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expression, "returnByValue": true, "awaitPromise": true,
	}, &reply)
	if err != nil {
		return err
	}
	if e := reply.ExceptionDetails; e != nil {
		return fmt.Errorf("repocheck: javascript exception: %s %s", e.Text, e.Exception.Description)
	}
	if result != nil && len(reply.Result.Value) > 0 {
		if err := json.Unmarshal(reply.Result.Value, result); err != nil {
			return fmt.Errorf("repocheck: decoding javascript value %s: %w", reply.Result.Value, err)
		}
	}
	return nil
}

// Click sends a real mouse click (press and release) at page coordinates x, y.
func (p *Page) Click(ctx context.Context, x, y float64) error {
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		params := map[string]any{"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1}
		if typ == "mouseMoved" {
			params["button"] = "none"
			params["clickCount"] = 0
		}
		if err := p.Call(ctx, "Input.dispatchMouseEvent", params, nil); err != nil {
			return err
		}
	}
	return nil
}

// Screenshot captures the viewport, or the clip rectangle when clip is non-nil
// ({x, y, width, height} in CSS pixels), as PNG.
func (p *Page) Screenshot(ctx context.Context, clip *Rect) ([]byte, error) {
	params := map[string]any{"format": "png"}
	if clip != nil {
		params["clip"] = map[string]any{"x": clip.X, "y": clip.Y, "width": clip.Width, "height": clip.Height, "scale": 1}
		params["captureBeyondViewport"] = true
	}
	var shot struct {
		Data []byte `json:"data"` // base64 in JSON: decoded by encoding/json
	}
	if err := p.Call(ctx, "Page.captureScreenshot", params, &shot); err != nil {
		return nil, err
	}
	return shot.Data, nil
}

// Rect is a rectangle in CSS pixels.
type Rect struct {
	X, Y, Width, Height float64
}
