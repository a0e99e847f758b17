package safety

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// model is a multinomial logistic regression over hashed features: for
// each class a bias, and for each feature bucket the training saw often
// enough a weight per class. Buckets it did not keep weigh nothing.
type model struct {
	classes []string
	bias    []float32
	rows    map[uint32]int32 // bucket -> row of weights
	weights []float32        // rows × len(classes)
}

// probs returns the probability of each class for f, in the order of
// m.classes, into out (which it returns, grown when needed).
func (m *model) probs(f features, out []float64) []float64 {
	k := len(m.classes)
	out = slices.Grow(out[:0], k)[:k]
	for c := range k {
		out[c] = float64(m.bias[c])
	}
	for _, id := range f.ids {
		row, ok := m.rows[id]
		if !ok {
			continue
		}
		w := m.weights[int(row)*k : int(row+1)*k]
		for c := range k {
			out[c] += float64(w[c] * f.value)
		}
	}
	softmaxInPlace(out)
	return out
}

func softmaxInPlace(z []float64) {
	top := math.Inf(-1)
	for _, v := range z {
		top = max(top, v)
	}
	sum := 0.0
	for i, v := range z {
		z[i] = math.Exp(v - top)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// modelMagic opens every model file.
const modelMagic = "askpa safety model 1\n"

// writeTo writes m in its file format: gzip around the magic line, the
// class names, the biases, then each kept bucket in increasing order with
// its weights. The same model always gives the same bytes.
func (m *model) writeTo(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(modelMagic)
	putUvarint(&b, uint64(len(m.classes)))
	for _, c := range m.classes {
		putUvarint(&b, uint64(len(c)))
		b.WriteString(c)
	}
	for _, v := range m.bias {
		binary.Write(&b, binary.LittleEndian, v)
	}
	buckets := make([]uint32, 0, len(m.rows))
	for id := range m.rows {
		buckets = append(buckets, id)
	}
	slices.Sort(buckets)
	putUvarint(&b, uint64(len(buckets)))
	k := len(m.classes)
	prev := uint32(0)
	for _, id := range buckets {
		putUvarint(&b, uint64(id-prev))
		prev = id
		row := m.rows[id]
		binary.Write(&b, binary.LittleEndian, m.weights[int(row)*k:int(row+1)*k])
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

func putUvarint(b *bytes.Buffer, v uint64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], v)])
}

// errModel reports a model file that cannot be read.
var errModel = errors.New("safety: not a model file")

// readModel reads what writeTo wrote.
func readModel(data []byte) (*model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errModel, err)
	}
	r := bufio.NewReader(zr)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != modelMagic {
		return nil, fmt.Errorf("%w: wrong header", errModel)
	}
	fail := func(what string, err error) (*model, error) {
		return nil, fmt.Errorf("%w: reading %s: %v", errModel, what, err)
	}
	k, err := binary.ReadUvarint(r)
	if err != nil || k == 0 || k > 64 {
		return fail("classes", err)
	}
	m := &model{bias: make([]float32, k)}
	for range k {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 64 {
			return fail("a class name", err)
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(r, name); err != nil {
			return fail("a class name", err)
		}
		m.classes = append(m.classes, string(name))
	}
	if err := binary.Read(r, binary.LittleEndian, m.bias); err != nil {
		return fail("biases", err)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1<<featureBits {
		return fail("the number of features", err)
	}
	m.rows = make(map[uint32]int32, n)
	m.weights = make([]float32, int(n)*int(k))
	id := uint32(0)
	for i := range int(n) {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return fail("a feature", err)
		}
		id += uint32(d)
		m.rows[id] = int32(i)
		if err := binary.Read(r, binary.LittleEndian, m.weights[i*int(k):(i+1)*int(k)]); err != nil {
			return fail("weights", err)
		}
	}
	return m, nil
}
