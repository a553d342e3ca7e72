package layers

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// BatchNorm constants of the thesis (torch.nn.BatchNorm2d defaults).
const (
	BatchNormEpsilon  = 1e-5
	BatchNormMomentum = 0.1
)

// BatchNorm2D normalises x [B, H, W, C] per channel like torch.nn.BatchNorm2d
// (affine, track_running_stats). Variables in scope: "gamma" [C] (init 1),
// "beta" [C] (init 0), and the non-trainable "running_mean" [C] (init 0) and
// "running_var" [C] (init 1).
//
// Training mode is read from the Store (model.Store.IsTraining(g), set by
// store.SetTraining(g, true) as train.Trainer does): it normalises with the batch
// mean and biased batch variance and updates the running statistics with momentum
// 0.1 using the unbiased variance. Otherwise it normalises with the running statistics.
// f is the formulation of the graph (Auto: per backend).
func BatchNorm2D(scope *model.Scope, x *Node, f Formulation) *Node {
	return batchNorm2D(scope, x, f, false)
}

// BatchNorm2DLeakyReLU is LeakyReLU(BatchNorm2D(scope, x)) (the thesis's block
// after every convolution but the last). With the Fast formulation it is one fused
// operation with a closed-form gradient; otherwise the two layers in sequence.
func BatchNorm2DLeakyReLU(scope *model.Scope, x *Node, f Formulation) *Node {
	return batchNorm2D(scope, x, f, true)
}

func batchNorm2D(scope *model.Scope, x *Node, f Formulation, leaky bool) *Node {
	if x.Rank() != 4 {
		exceptions.Panicf("layers.BatchNorm2D: want x [B,H,W,C], got %s", x.Shape())
	}
	g := x.Graph()
	gamma, beta, runMean, runVar := BatchNorm2DVariables(scope, x.Shape().Dim(3))
	training := scope.IsTraining(g)
	if f.resolve(g) == Fast {
		y, newMean, newVar := batchNorm2DFast(x, gamma.NodeValue(g), beta.NodeValue(g),
			runMean.NodeValue(g), runVar.NodeValue(g), training, leaky)
		if training {
			runMean.SetNodeValue(newMean)
			runVar.SetNodeValue(newVar)
		}
		return y
	}
	y, newMean, newVar := BatchNorm2DWith(x, gamma.NodeValue(g), beta.NodeValue(g),
		runMean.NodeValue(g), runVar.NodeValue(g), training)
	if training {
		runMean.SetNodeValue(newMean)
		runVar.SetNodeValue(newVar)
	}
	if leaky {
		y = LeakyReLU(y)
	}
	return y
}

// batchNorm2DFast is [BatchNorm2DWith] (+ LeakyReLU when leaky) in the Fast
// formulation: x flattened to [N, C], per-channel sums as MatMuls with a row of
// ones, per-channel factors broadcast to [N, C], and in training
// the custom-VJP [bnLeakyFast].
func batchNorm2DFast(x, gamma, beta, runningMean, runningVar *Node, training, leaky bool) (y, newMean, newVar *Node) {
	shape := x.Shape()
	x2 := Reshape(x, -1, shape.Dim(3))
	n := x2.Shape().Dim(0)
	if !training {
		a := Div(gamma, Sqrt(AddScalar(runningVar, BatchNormEpsilon)))
		b := Sub(beta, Mul(runningMean, a))
		y = Add(Mul(x2, rows(a, n)), rows(b, n))
		if leaky {
			y = LeakyReLU(y)
		}
		return Reshape(y, shape.Dimensions...), runningMean, runningVar
	}
	y, mean, variance := bnLeakyFast(x2, gamma, beta, leaky)
	unbiased := variance
	if n > 1 {
		unbiased = MulScalar(variance, float64(n)/float64(n-1))
	}
	m := BatchNormMomentum
	newMean = Add(MulScalar(StopGradient(runningMean), 1-m), MulScalar(mean, m))
	newVar = Add(MulScalar(StopGradient(runningVar), 1-m), MulScalar(unbiased, m))
	return Reshape(y, shape.Dimensions...), newMean, newVar
}

// BatchNorm2DVariables creates (or returns) the variables of [BatchNorm2D] for c channels.
func BatchNorm2DVariables(scope *model.Scope, c int) (gamma, beta, runningMean, runningVar *model.Variable) {
	gamma = variable(scope, "gamma", constInitializer(1), c)
	beta = variable(scope, "beta", constInitializer(0), c)
	runningMean = variable(scope, "running_mean", constInitializer(0), c).SetTrainable(false)
	runningVar = variable(scope, "running_var", constInitializer(1), c).SetTrainable(false)
	return
}

// BatchNorm2DWith is the functional form of [BatchNorm2D]. In training it returns
// the updated running statistics (gradients stopped); in inference it returns the
// given ones unchanged.
func BatchNorm2DWith(x, gamma, beta, runningMean, runningVar *Node, training bool) (y, newMean, newVar *Node) {
	c := x.Shape().Dim(3)
	if !training {
		scale := Div(gamma, Sqrt(AddScalar(runningVar, BatchNormEpsilon)))
		shift := Sub(beta, Mul(runningMean, scale))
		y = Add(Mul(x, Reshape(scale, 1, 1, 1, c)), Reshape(shift, 1, 1, 1, c))
		return y, runningMean, runningVar
	}
	n := x.Shape().Dim(0) * x.Shape().Dim(1) * x.Shape().Dim(2)
	mean := ReduceMean(x, 0, 1, 2)
	centered := Sub(x, Reshape(mean, 1, 1, 1, c))
	variance := ReduceMean(Square(centered), 0, 1, 2) // biased
	scale := Div(gamma, Sqrt(AddScalar(variance, BatchNormEpsilon)))
	y = Add(Mul(centered, Reshape(scale, 1, 1, 1, c)), Reshape(beta, 1, 1, 1, c))

	unbiased := variance
	if n > 1 {
		unbiased = MulScalar(variance, float64(n)/float64(n-1))
	}
	m := BatchNormMomentum
	newMean = Add(MulScalar(StopGradient(runningMean), 1-m), MulScalar(StopGradient(mean), m))
	newVar = Add(MulScalar(StopGradient(runningVar), 1-m), MulScalar(StopGradient(unbiased), m))
	return y, newMean, newVar
}

// LeakyReLU with the thesis's slope 0.2: max(x, 0.2·x).
func LeakyReLU(x *Node) *Node {
	return Max(x, MulScalar(x, 0.2))
}

// Dense is torch.nn.Linear(in→out) on x [B, in]: variables "weights" [in, out]
// and "biases" [out], both U(±1/√in).
func Dense(scope *model.Scope, x *Node, in, out int) *Node {
	if x.Rank() != 2 || x.Shape().Dim(1) != in {
		exceptions.Panicf("layers.Dense: want x [B,%d], got %s", in, x.Shape())
	}
	w, b := DenseVariables(scope, in, out)
	g := x.Graph()
	return Add(MatMul(x, w.NodeValue(g)), Reshape(b.NodeValue(g), 1, out))
}

// DenseVariables creates (or returns) the variables of [Dense]: "weights" [in, out]
// and "biases" [out], both U(±1/√in).
func DenseVariables(scope *model.Scope, in, out int) (weights, biases *model.Variable) {
	bound := FanInBound(in)
	weights = variable(scope, "weights", UniformInitializer(scope, bound), in, out)
	biases = variable(scope, "biases", UniformInitializer(scope, bound), out)
	return
}
