package index

import "github.com/blevesearch/bleve/v2"

// BleveIndex returns the Bleve index underneath ix, for the benchmarks that
// set a full answer beside one plain Bleve query over the same index.
func (ix *Index) BleveIndex() bleve.Index { return ix.bleve }
