// Package jsonl reads the JSON Lines files of askpa's corpora.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Read decodes every line of every *.jsonl file under dir in fsys, in
// name order, into a new T (unknown fields are an error) and passes it to
// add with where it came from ("dir/file.jsonl:12"). Blank lines are
// skipped. It stops at the first error, from decoding or from add, and
// returns it prefixed with the file and line.
func Read[T any](fsys fs.FS, dir string, add func(where string, v T) error) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".jsonl" {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			where := fmt.Sprintf("%s:%d", p, line)
			var v T
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("%s: %v", where, err)
			}
			if err := add(where, v); err != nil {
				return fmt.Errorf("%s: %v", where, err)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		return nil
	})
}
