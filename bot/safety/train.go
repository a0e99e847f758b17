package safety

import (
	"math"
	"math/rand/v2"
	"slices"
)

// trainOptions tune training. The defaults were chosen on the validation
// split.
type trainOptions struct {
	epochs int     // passes over the examples
	rate   float64 // AdaGrad's step
	l2     float64 // weight decay on the weights an example touches
	minDF  int     // a bucket must appear in this many examples to be kept
	seed   uint64  // the order examples are seen in
}

var defaultTrainOptions = trainOptions{epochs: 30, rate: 0.1, l2: 1e-4, minDF: 2, seed: 1}

// sample is one training example: its features, its class and its weight.
type sample struct {
	f      features
	class  int
	weight float64
}

// train fits a model with the given classes to samples, deterministically:
// the same samples and options always give the same weights. Classes are
// weighted so that each counts as if it had as many samples as the
// average class (square-root weighting, so a rare class does not swamp
// the rest).
func train(classes []string, samples []sample, o trainOptions) *model {
	k := len(classes)
	df := map[uint32]int{}
	for _, s := range samples {
		for _, id := range s.f.ids {
			df[id]++
		}
	}
	var kept []uint32
	for id, n := range df {
		if n >= o.minDF {
			kept = append(kept, id)
		}
	}
	slices.Sort(kept)
	rows := make(map[uint32]int32, len(kept))
	for i, id := range kept {
		rows[id] = int32(i)
	}
	perClass := make([]float64, k)
	for _, s := range samples {
		perClass[s.class]++
	}
	classWeight := make([]float64, k)
	for c := range k {
		if perClass[c] > 0 {
			classWeight[c] = classWeighting(float64(len(samples)) / (float64(k) * perClass[c]))
		}
	}
	w := make([]float64, len(kept)*k)
	g2 := make([]float64, len(kept)*k) // AdaGrad's sums of squared gradients
	bias := make([]float64, k)
	bg2 := make([]float64, k)
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.seed, 0x5afe))
	p := make([]float64, k)
	var local []int32
	for range o.epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			s := samples[i]
			local = local[:0]
			for _, id := range s.f.ids {
				if r, ok := rows[id]; ok {
					local = append(local, r)
				}
			}
			x := float64(s.f.value)
			copy(p, bias)
			for _, r := range local {
				for c := range k {
					p[c] += w[int(r)*k+c] * x
				}
			}
			softmaxInPlace(p)
			sw := s.weight * classWeight[s.class]
			for c := range k {
				g := p[c]
				if c == s.class {
					g--
				}
				g *= sw
				bg2[c] += g * g
				bias[c] -= o.rate * g / math.Sqrt(bg2[c]+1e-8)
				for _, r := range local {
					j := int(r)*k + c
					gw := g*x + o.l2*w[j]
					g2[j] += gw * gw
					w[j] -= o.rate * gw / math.Sqrt(g2[j]+1e-8)
				}
			}
		}
	}
	m := &model{classes: classes, bias: make([]float32, k), rows: map[uint32]int32{}}
	for c := range k {
		m.bias[c] = float32(bias[c])
	}
	// Keep only buckets that weigh something: the rest cost space and time.
	for i, id := range kept {
		row := w[i*k : (i+1)*k]
		big := false
		for _, v := range row {
			if math.Abs(v) >= 1e-3 {
				big = true
			}
		}
		if !big {
			continue
		}
		m.rows[id] = int32(len(m.rows))
		for _, v := range row {
			m.weights = append(m.weights, float32(v))
		}
	}
	return m
}

// classWeighting turns a class's imbalance (the average class size over
// its size) into its weight.
var classWeighting = func(float64) float64 { return 1 }

// trainAveraged trains n models that see the samples in different orders
// and returns their average: one linear model, as cheap to run as each,
// with less of the noise any one order of training leaves in it.
func trainAveraged(classes []string, samples []sample, o trainOptions, n int) *model {
	k := len(classes)
	sumBias := make([]float64, k)
	sum := map[uint32][]float64{}
	for i := range n {
		oi := o
		oi.seed = o.seed + uint64(i)
		m := train(classes, samples, oi)
		for c := range k {
			sumBias[c] += float64(m.bias[c])
		}
		for id, row := range m.rows {
			acc := sum[id]
			if acc == nil {
				acc = make([]float64, k)
				sum[id] = acc
			}
			for c, v := range m.weights[int(row)*k : int(row+1)*k] {
				acc[c] += float64(v)
			}
		}
	}
	out := &model{classes: classes, bias: make([]float32, k), rows: make(map[uint32]int32, len(sum))}
	for c := range k {
		out.bias[c] = float32(sumBias[c] / float64(n))
	}
	ids := make([]uint32, 0, len(sum))
	for id := range sum {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out.rows[id] = int32(len(out.rows))
		for _, v := range sum[id] {
			out.weights = append(out.weights, float32(v/float64(n)))
		}
	}
	return out
}
