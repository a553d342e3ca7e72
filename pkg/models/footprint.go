package models

// MemoryFootprint estimates the bytes of host or device memory that the
// memory units of a model configured by c need when run on batches of batch
// images: the items (NumConditions × MemorySize × C float32 values) with their
// gradient and the two Adam moments, plus the addressing of one batch
// (similarity, softmax, shrinkage and their gradients: about four
// batch × latent positions × MemorySize arrays per memory). The result is a
// float64 so that absurd sizes do not overflow; it is 0 for models without a
// memory. It is a lower bound, used to refuse sizes that cannot fit before
// anything is allocated.
func (c Config) MemoryFootprint(batch int) float64 {
	if c.Kind != KindMemAE {
		return 0
	}
	a, ok := archs[c.Arch]
	if !ok {
		return 0
	}
	const f32 = 4
	conds := float64(max(c.NumConditions, 1))
	n := float64(max(c.MemorySize, 0))
	items := conds * n * float64(a.LatentChannels()) * f32 * 4
	addressing := conds * float64(max(batch, 1)) * float64(a.LatentH*a.LatentW) * n * f32 * 4
	return items + addressing
}
