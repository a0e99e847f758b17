package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/askpa/askpa/content"
)

// defaultContentDir is where askpa looks for the knowledge base.
const defaultContentDir = "./content"

// contentFS returns the knowledge base to use: dir when it exists, the
// embedded default when dir is the default and absent, and an error when a
// directory that was asked for does not exist.
func contentFS(dir string) (fs.FS, string, error) {
	if dir == "" {
		dir = defaultContentDir
	}
	st, err := os.Stat(dir)
	switch {
	case err == nil && st.IsDir():
		return os.DirFS(dir), dir, nil
	case err == nil:
		return nil, "", errors.New(dir + " is not a directory")
	case errors.Is(err, fs.ErrNotExist) && dir == defaultContentDir:
		return content.FS, "(embedded)", nil
	default:
		return nil, "", err
	}
}
