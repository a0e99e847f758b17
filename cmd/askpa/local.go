package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/askpa/askpa/knowledge"
)

// localPack reads the local packs in dir (ASKPA_LOCAL_DIR, --local: one
// pack, or a folder of packs) and returns the one to answer for: the only
// one, or the one area (ASKPA_AREA, --area) names by id, council name or
// postcode district. It returns nil when dir is empty, and an error naming
// area.yaml and its line for every problem of the packs, or when area is
// needed, given without packs, or names none of them.
func localPack(dir, area string) (*knowledge.Pack, error) {
	if dir == "" {
		if area != "" {
			return nil, errors.New("--area (ASKPA_AREA) chooses among local packs: set ASKPA_LOCAL_DIR (--local) too")
		}
		return nil, nil
	}
	if err := isDir(dir); err != nil {
		return nil, fmt.Errorf("local pack: %w", err)
	}
	packs, err := knowledge.LoadPacks(os.DirFS(dir), dir)
	if err != nil {
		return nil, fmt.Errorf("local pack %s: %w", dir, err)
	}
	var ids []string
	for _, p := range packs {
		ids = append(ids, p.Area.ID)
	}
	switch p := knowledge.PickPack(packs, area); {
	case area == "" && len(packs) == 1:
		return packs[0], nil
	case area == "":
		return nil, fmt.Errorf("%s holds %d local packs (%s): choose one with --area or ASKPA_AREA", dir, len(packs), strings.Join(ids, ", "))
	case p == nil:
		return nil, fmt.Errorf("no local pack in %s is for %q: give an id (%s), a council's name or a postcode district", dir, area, strings.Join(ids, ", "))
	default:
		return p, nil
	}
}

// isDir fails unless dir is a directory.
func isDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", dir)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}
