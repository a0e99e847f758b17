package match

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/askpa/askpa/knowledge"
)

//go:generate go run ../../cmd/askpa match train --corpus corpus --out data/model.json --safety-corpus ../safety/testdata/corpus

// builtIn holds the model, its classifier and the questions the Matcher remembers: the
// corpus's train split. The validation and test splits are not built in.
//
//go:embed data/model.json data/classifier.bin corpus/train
var builtIn embed.FS

// ReadModel reads a model written by WriteModel's JSON form.
func ReadModel(data []byte) (Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return Model{}, fmt.Errorf("match: model: %w", err)
	}
	return m, nil
}

// Default returns the Matcher built into askpa over base and search: the
// built-in model, remembering the built-in train split.
func Default(base *knowledge.Base, search Searcher) (*Matcher, error) {
	data, err := fs.ReadFile(builtIn, "data/model.json")
	if err != nil {
		return nil, err
	}
	model, err := ReadModel(data)
	if err != nil {
		return nil, err
	}
	data, err = fs.ReadFile(builtIn, "data/classifier.bin")
	if err != nil {
		return nil, err
	}
	if model.Classifier, err = ReadClassifier(data); err != nil {
		return nil, err
	}
	qs, err := ReadQuestions(builtIn, "corpus/train")
	if err != nil {
		return nil, err
	}
	return New(base, search, qs, model)
}
