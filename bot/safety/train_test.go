package safety_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/askpa/askpa/bot/safety"
)

// TestModelIsCurrent retrains the classifier from the corpus and checks
// that the result is byte for byte what is built in: training is
// deterministic, and the built-in model is the one the corpus, word lists
// and rules make. After changing any of them, retrain with
// "go generate ./bot/safety" (about half a minute).
func TestModelIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("retraining takes about half a minute; skipped in -short mode")
	}
	corpus := os.DirFS("testdata/corpus")
	train, err := safety.ReadCorpus(corpus, "train")
	if err != nil {
		t.Fatal(err)
	}
	validation, err := safety.ReadCorpus(corpus, "validation")
	if err != nil {
		t.Fatal(err)
	}
	out, err := safety.Train(os.DirFS("data"), train, validation)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"kinds.model": out.Kinds, "self.model": out.Self, "thresholds.txt": out.Thresholds} {
		want, err := os.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("data/%s is not what training makes of the corpus: run go generate ./bot/safety", name)
		}
	}
	if _, err := safety.Load(os.DirFS("data")); err != nil {
		t.Errorf("the built-in data does not load: %v", err)
	}
}

func TestTrainRefusesAnEmptySplit(t *testing.T) {
	ex := []safety.Example{{ID: "a", Text: "hello", Label: safety.Ordinary, Audience: "employer"}}
	if _, err := safety.Train(os.DirFS("data"), ex, nil); err == nil {
		t.Error("Train with no validation examples succeeded")
	}
}
