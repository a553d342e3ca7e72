// Package plots draws the thesis figures with gonum/plot and shows them inline in
// GoNB notebooks.
//
// Every chart constructor returns a *Figure, a renderable of fixed size that can be
// encoded as PNG ([Figure.PNG]) or SVG ([Figure.SVG]), saved to a file
// ([Figure.Save]) or sent to the notebook ([Display], [DisplaySVG]). The charts
// cover the thesis's figures:
//
//   - [Lines]: AUROC (or memory change, or loss) over epochs, one line per class
//     or configuration, with a legend.
//   - [Heatmap]: a matrix such as max-over-epochs AUROC (class × configuration)
//     with a colour bar and the values annotated in the cells.
//   - [ImageGrid]: a grid of images given as channels-last float32 tensors
//     (N×H×W×C) with de-normalisation ([MNISTNorm], [CIFARNorm]); used for inputs
//     next to reconstructions and for decoded memory items.
//   - [Bars]: a bar chart of one vector, e.g. a latent vector or an addressing
//     vector (pre-softmax similarities, post-softmax and post-shrinkage weights).
//   - [Tile]: several figures side by side in one image.
//
// Table helpers render a results table as HTML ([HTMLTable], [ShowTable]) and
// show LaTeX source ([ShowLaTeX]). The repository's notebook check (.ci/repocheck)
// treats a cell that calls a function here taking a *Figure (and returning none), such
// as [Display] or [DisplayChart], as a figure cell, which must produce an image output.
//
// Constructors return an error, never panic, for empty or inconsistent input.
// The Display functions are no-ops outside a notebook (when GoNB's pipe is not
// set), so the same code runs from tests and command-line programs; inside a
// notebook they end with gonbui.Sync so no output is lost when the cell ends.
package plots
