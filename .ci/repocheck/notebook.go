package repocheck

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Notebook is the part of a Jupyter notebook (nbformat 4) that the checks read.
type Notebook struct {
	Cells         []Cell         `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

// Cell is one notebook cell.
type Cell struct {
	ID       string       `json:"id"`
	CellType string       `json:"cell_type"`
	Source   MultiString  `json:"source"`
	Metadata CellMetadata `json:"metadata"`
	Outputs  []Output     `json:"outputs"`
}

// CellMetadata holds the cell metadata the checks use.
type CellMetadata struct {
	Tags []string `json:"tags"`
}

// Output is one cell output.
type Output struct {
	OutputType string                 `json:"output_type"` // stream, display_data, execute_result, update_display_data, error
	Name       string                 `json:"name"`        // stream name: stdout or stderr
	Text       MultiString            `json:"text"`        // stream text
	Data       map[string]MultiString `json:"data"`        // MIME type -> content
	EName      string                 `json:"ename"`
	EValue     string                 `json:"evalue"`
}

// MultiString is a notebook text field: nbformat stores it either as one string or
// as a list of lines.
type MultiString string

// UnmarshalJSON accepts a string, a list of strings, or anything else (e.g. JSON data
// of an "application/json" output, kept as its JSON text).
func (m *MultiString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = MultiString(s)
		return nil
	}
	var lines []string
	if err := json.Unmarshal(b, &lines); err == nil {
		*m = MultiString(strings.Join(lines, ""))
		return nil
	}
	*m = MultiString(b)
	return nil
}

// ParseNotebook decodes a notebook's JSON.
func ParseNotebook(content []byte) (*Notebook, error) {
	var nb Notebook
	if err := json.Unmarshal(content, &nb); err != nil {
		return nil, fmt.Errorf("repocheck: decoding notebook JSON: %w", err)
	}
	return &nb, nil
}

// ReadNotebook reads and decodes the notebook at path.
func ReadNotebook(path string) (*Notebook, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("repocheck: reading notebook: %w", err)
	}
	nb, err := ParseNotebook(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// FigureTag is the cell metadata tag that marks a figure cell.
const FigureTag = "figure"

// IsFigureCell reports whether c is a code cell that must produce an image (see the package doc).
func (c *Cell) IsFigureCell() bool {
	if c.CellType != "code" {
		return false
	}
	return figureCall.MatchString(string(c.Source)) || slices.Contains(c.Metadata.Tags, FigureTag)
}

// HasImage reports whether the output carries an image: image/png, image/svg+xml, or
// HTML holding an <svg> or <img> element.
func (o *Output) HasImage() bool {
	switch o.OutputType {
	case "display_data", "execute_result", "update_display_data":
	default:
		return false
	}
	if len(o.Data["image/png"]) > 0 || len(o.Data["image/svg+xml"]) > 0 {
		return true
	}
	html := strings.ToLower(string(o.Data["text/html"]))
	return strings.Contains(html, "<svg") || strings.Contains(html, "<img")
}

// stderrFailureMarkers are texts in a stderr stream that mean a cell failed even though
// the kernel reported success.
var stderrFailureMarkers = []string{"exit status ", "panic:"}

// CheckExecutedNotebook checks an executed notebook (see the package doc): no error
// outputs, no failure markers in stderr streams, an image output in every figure cell,
// and at least one executed code cell. It returns one message per problem found; the
// cell numbers are 1-based, counting all cells.
func CheckExecutedNotebook(nb *Notebook) []string {
	var problems []string
	executed := 0
	for i := range nb.Cells {
		c := &nb.Cells[i]
		if c.CellType != "code" {
			continue
		}
		where := fmt.Sprintf("cell %d (%s)", i+1, firstLine(string(c.Source)))
		if len(c.Outputs) > 0 {
			executed++
		}
		hasImage := false
		for _, o := range c.Outputs {
			switch {
			case o.OutputType == "error":
				problems = append(problems, fmt.Sprintf("%s: error output %s: %s", where, o.EName, o.EValue))
			case o.OutputType == "stream" && o.Name == "stderr":
				for _, marker := range stderrFailureMarkers {
					if strings.Contains(string(o.Text), marker) {
						problems = append(problems, fmt.Sprintf("%s: stderr contains %q: %s",
							where, marker, excerpt(string(o.Text), marker)))
					}
				}
			}
			if o.HasImage() {
				hasImage = true
			}
		}
		if c.IsFigureCell() && !hasImage {
			problems = append(problems, fmt.Sprintf("%s: figure cell produced no image output (image/png, image/svg+xml or HTML <svg>/<img>)", where))
		}
	}
	if executed == 0 {
		problems = append(problems, "no code cell has any output: was the notebook executed?")
	}
	return problems
}

// GoWorkSetupMarkers must all appear in a notebook's first code cell (see the package doc).
var GoWorkSetupMarkers = []string{"go work", `${GONB_DIR}/..`}

// CheckNotebookSetup checks that the first code cell of a (source) notebook sets up
// the go.work that makes the project importable, and that the kernel is GoNB.
func CheckNotebookSetup(nb *Notebook) []string {
	var problems []string
	if ks, ok := nb.Metadata["kernelspec"].(map[string]any); !ok || ks["name"] != "gonb" {
		problems = append(problems, `metadata.kernelspec.name is not "gonb"`)
	}
	// nbformat 4.5 requires a unique id per cell (JupyterLab adds missing ones,
	// changing the file on first save).
	if nb.NBFormatMinor >= 5 {
		seen := map[string]int{}
		for i, c := range nb.Cells {
			switch j, dup := seen[c.ID]; {
			case c.ID == "":
				problems = append(problems, fmt.Sprintf("cell %d has no id (nbformat 4.5)", i+1))
			case dup:
				problems = append(problems, fmt.Sprintf("cells %d and %d share the id %q", j+1, i+1, c.ID))
			default:
				seen[c.ID] = i
			}
		}
	}
	for i := range nb.Cells {
		c := &nb.Cells[i]
		if c.CellType != "code" {
			continue
		}
		for _, m := range GoWorkSetupMarkers {
			if !strings.Contains(string(c.Source), m) {
				problems = append(problems, fmt.Sprintf("first code cell (cell %d) lacks %q of the go.work set-up: "+
					`!*rm -f go.work && go work init && go work use . "${GONB_DIR}/.."`, i+1, m))
			}
		}
		return problems
	}
	return append(problems, "no code cell")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func excerpt(text, marker string) string {
	i := strings.Index(text, marker)
	start := max(0, i-200)
	end := min(len(text), i+200)
	return strings.TrimSpace(text[start:end])
}
