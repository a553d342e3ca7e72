package repocheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodNotebook is a small executed notebook that passes every check: a set-up cell,
// a figure cell by source marker with a PNG, a figure cell by tag with HTML SVG, and
// harmless stderr output.
const goodNotebook = `{
 "cells": [
  {"id": "title", "cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
  {"id": "setup", "cell_type": "code", "metadata": {}, "execution_count": 1,
   "source": ["!*rm -f go.work && go work init && go work use . \"${GONB_DIR}/..\""], "outputs": []},
  {"id": "png", "cell_type": "code", "metadata": {}, "execution_count": 2,
   "source": ["%%\n", "plots.Display(p)"],
   "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}}]},
  {"id": "svg", "cell_type": "code", "metadata": {"tags": ["figure"]}, "execution_count": 3,
   "source": "gonbui.DisplaySVG(s)",
   "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/html": ["<div><svg width=\"10\">", "</svg></div>"]}},
               {"output_type": "stream", "name": "stderr", "text": ["training: epoch 1\n"]}]}
 ],
 "metadata": {"kernelspec": {"name": "gonb", "display_name": "Go (gonb)", "language": "go"}},
 "nbformat": 4, "nbformat_minor": 5
}`

// badNotebook has one problem of each kind.
const badNotebook = `{
 "cells": [
  {"cell_type": "code", "metadata": {}, "source": "import \"fmt\"", "outputs": [
    {"output_type": "error", "ename": "ERROR", "evalue": "undefined: foo", "traceback": []}]},
  {"id": "x", "cell_type": "code", "metadata": {}, "source": "!false", "outputs": [
    {"output_type": "stream", "name": "stderr", "text": "exit status 1\n"}]},
  {"id": "x", "cell_type": "code", "metadata": {}, "source": "%%\nplots.Display(p)", "outputs": [
    {"output_type": "stream", "name": "stdout", "text": "no image here\n"}]},
  {"cell_type": "code", "metadata": {"tags": ["figure"]}, "source": "%%\nshow()", "outputs": [
    {"output_type": "stream", "name": "stderr", "text": "panic: index out of range\n"}]}
 ],
 "metadata": {"kernelspec": {"name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5
}`

func TestCheckExecutedNotebookGood(t *testing.T) {
	nb, err := ParseNotebook([]byte(goodNotebook))
	if err != nil {
		t.Fatal(err)
	}
	if problems := CheckExecutedNotebook(nb); len(problems) != 0 {
		t.Errorf("good notebook: got problems %q, want none", problems)
	}
	if problems := CheckNotebookSetup(nb); len(problems) != 0 {
		t.Errorf("good notebook set-up: got problems %q, want none", problems)
	}
	if got := nb.Cells[2].Source; got != "%%\nplots.Display(p)" {
		t.Errorf("list source joined to %q", got)
	}
}

func TestCheckExecutedNotebookBad(t *testing.T) {
	nb, err := ParseNotebook([]byte(badNotebook))
	if err != nil {
		t.Fatal(err)
	}
	problems := CheckExecutedNotebook(nb)
	want := []string{
		"cell 1 (import \"fmt\"): error output ERROR: undefined: foo",
		"cell 2 (!false): stderr contains \"exit status \"",
		"cell 3 (%%): figure cell produced no image output",
		"cell 4 (%%): stderr contains \"panic:\"",
		"cell 4 (%%): figure cell produced no image output",
	}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems %q, want %d", len(problems), problems, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(problems[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, problems[i], w)
		}
	}
	setup := CheckNotebookSetup(nb)
	wantSetup := []string{`metadata.kernelspec.name is not "gonb"`, "cell 1 has no id", `cells 2 and 3 share the id "x"`,
		"cell 4 has no id", "first code cell (cell 1) lacks", "first code cell (cell 1) lacks"}
	if len(setup) != len(wantSetup) {
		t.Fatalf("set-up problems = %q, want %d", setup, len(wantSetup))
	}
	for i, w := range wantSetup {
		if !strings.HasPrefix(setup[i], w) {
			t.Errorf("set-up problem %d = %q, want prefix %q", i, setup[i], w)
		}
	}
}

func TestCheckExecutedNotebookNotExecuted(t *testing.T) {
	nb, err := ParseNotebook([]byte(`{"cells": [{"cell_type": "code", "source": "x := 1", "outputs": []}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if problems := CheckExecutedNotebook(nb); len(problems) != 1 || !strings.Contains(problems[0], "executed") {
		t.Errorf("unexecuted notebook: got %q, want one 'not executed' problem", problems)
	}
	if _, err := ParseNotebook([]byte(`{"cells": [`)); err == nil {
		t.Error("truncated JSON: want an error")
	}
}

// repoNotebooks lists notebooks/*.ipynb of the repository.
func repoNotebooks(t *testing.T) (root string, paths []string) {
	t.Helper()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	paths, err = filepath.Glob(filepath.Join(root, "notebooks", "*.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	return root, paths
}

// TestNotebookSetup checks the source notebooks' kernel and go.work set-up cell.
func TestNotebookSetup(t *testing.T) {
	_, paths := repoNotebooks(t)
	if len(paths) == 0 {
		t.Skip("no notebooks/*.ipynb yet")
	}
	for _, p := range paths {
		nb, err := ReadNotebook(p)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, problem := range CheckNotebookSetup(nb) {
			t.Errorf("%s: %s", filepath.Base(p), problem)
		}
	}
}

// TestExecutedNotebooks checks every executed notebook in $CMEMAE_EXECUTED_NOTEBOOKS
// (written by .ci/test.sh); each source notebook must have its executed copy.
func TestExecutedNotebooks(t *testing.T) {
	dir := os.Getenv("CMEMAE_EXECUTED_NOTEBOOKS")
	if dir == "" {
		t.Skip("CMEMAE_EXECUTED_NOTEBOOKS is not set: .ci/test.sh sets it after executing the notebooks")
	}
	_, sources := repoNotebooks(t)
	executed, err := filepath.Glob(filepath.Join(dir, "*.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(executed) == 0 {
		t.Fatalf("no executed notebooks in %s", dir)
	}
	have := map[string]bool{}
	for _, p := range executed {
		have[filepath.Base(p)] = true
		nb, err := ReadNotebook(p)
		if err != nil {
			t.Error(err)
			continue
		}
		problems := CheckExecutedNotebook(nb)
		for _, problem := range problems {
			t.Errorf("%s: %s", filepath.Base(p), problem)
		}
		if len(problems) == 0 {
			figures := 0
			for i := range nb.Cells {
				if nb.Cells[i].IsFigureCell() {
					figures++
				}
			}
			t.Logf("%s: ok (%d cells, %d figure cells)", filepath.Base(p), len(nb.Cells), figures)
		}
	}
	// CMEMAE_EXPECTED_NOTEBOOKS (a glob, e.g. 0[1-4]_*.ipynb) limits the notebooks
	// that must have an executed copy (default: all).
	pattern := os.Getenv("CMEMAE_EXPECTED_NOTEBOOKS")
	if pattern == "" {
		pattern = "*.ipynb"
	}
	expected := 0
	for _, s := range sources {
		ok, err := filepath.Match(pattern, filepath.Base(s))
		if err != nil {
			t.Fatalf("CMEMAE_EXPECTED_NOTEBOOKS: %v", err)
		}
		if !ok {
			continue
		}
		expected++
		if !have[filepath.Base(s)] {
			t.Errorf("notebook %s has no executed copy in %s", filepath.Base(s), dir)
		}
	}
	if expected == 0 {
		t.Errorf("CMEMAE_EXPECTED_NOTEBOOKS=%q matches no notebook", pattern)
	}
}
