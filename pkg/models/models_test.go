package models

import (
	"testing"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestShapes checks the latent and output shape of every architecture (spec §3 table).
func TestShapes(t *testing.T) {
	want := map[string][3]int{ // latent h, w, C
		"mnist": {3, 3, 8}, "mnist-flat": {1, 1, 64}, "mnist-flat2": {1, 1, 16},
		"cifar": {2, 2, 256}, "cifar-flat": {1, 1, 256},
	}
	backend := testbackend.Go(t)
	for _, arch := range ArchNames() {
		for _, kind := range Kinds {
			if kind == KindCondAE && !archs[arch].Flat() {
				continue
			}
			for _, k := range []int{1, 2} {
				cfg := DefaultConfig(arch, kind)
				cfg.NumConditions = k
				cfg.MemorySize = 5
				m, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				H, W, C := m.InputShape()
				store := model.NewStore()
				exec := model.MustNewExec(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
					cond := graph.Zeros(x.Graph(), shapes.Make(dtypes.Int32, 2))
					out := m.Forward(scope, x, cond, CondKnown)
					return []*graph.Node{out.Recon, out.Latent, out.Loss}
				})
				res, err := exec.Call(tensors.FromShape(shapes.Make(dtypes.Float32, 2, H, W, C)))
				if err != nil {
					t.Fatalf("%s/%s/k=%d: %v", arch, kind, k, err)
				}
				if got := res[0].Shape().Dimensions; got[1] != H || got[2] != W || got[3] != C {
					t.Errorf("%s/%s: recon shape %v", arch, kind, got)
				}
				w := want[arch]
				if got := res[1].Shape().Dimensions; got[1] != w[0] || got[2] != w[1] || got[3] != w[2] {
					t.Errorf("%s/%s: latent shape %v, want %v", arch, kind, got, w)
				}
				t.Logf("%s/%s/k=%d: recon %v latent %v", arch, kind, k, res[0].Shape(), res[1].Shape())
			}
		}
	}
}
