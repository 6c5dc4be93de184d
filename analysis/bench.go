package analysis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Bench is PersonalityBench data in the official layout (NPTI.md §1): a
// descriptions file and one questions file per trait.
type Bench struct {
	// Descriptions holds the persona descriptions of each aspect, in file
	// order (80 per aspect in the official file).
	Descriptions map[Aspect][]string
	// Questions holds the questions of each trait present, in file order.
	Questions map[Trait][]string
}

// DescriptionsFile is the name of the descriptions file inside a bench folder.
const DescriptionsFile = "description.json"

// maxLine bounds one JSON line of a bench file.
const maxLine = 1 << 20

// LoadBenchDir loads the "test" split of a PersonalityBench folder on disk.
func LoadBenchDir(dir string) (*Bench, error) {
	return LoadBenchDirSplit(dir, SplitTest)
}

// LoadBench loads the "test" split of a PersonalityBench folder inside fsys
// (dir "." for its root): dir/description.json and dir/test/<Trait>.json.
func LoadBench(fsys fs.FS, dir string) (*Bench, error) {
	return LoadBenchSplit(fsys, dir, "test")
}

// Splits of PersonalityBench questions (NPTI.md §1): the official code
// identifies neurons on the "search" split and evaluates on "test".
const (
	SplitTest   = "test"
	SplitSearch = "search"
)

// CheckSplit reports whether s names a PersonalityBench split.
func CheckSplit(s string) error {
	if s != SplitTest && s != SplitSearch {
		return fmt.Errorf("unknown split %q (want %s or %s)", s, SplitSearch, SplitTest)
	}
	return nil
}

// LoadBenchDirSplit loads a split ("test" or "search") of a
// PersonalityBench folder on disk.
func LoadBenchDirSplit(dir, split string) (*Bench, error) {
	if err := CheckSplit(split); err != nil {
		return nil, fmt.Errorf("personality bench %s: %w", dir, err)
	}
	return loadBenchSplit(os.DirFS(dir), ".", split, absDir(dir))
}

// absDir returns dir as an absolute path where it can (for errors).
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// LoadBenchSplit loads dir/description.json and the questions of a split
// ("test" or "search"): dir/<split>/<Trait>.json, trait names matched
// case-insensitively. Traits without a file are absent from Questions; a
// split with no question file at all is an error.
func LoadBenchSplit(fsys fs.FS, dir, split string) (*Bench, error) {
	return loadBenchSplit(fsys, dir, split, "")
}

// loadBenchSplit is LoadBenchSplit; root, when set, is the folder on disk
// that fsys serves, so that errors name every file by its full path
// ("/data/pb/test/Extraversion.json:2: ...").
func loadBenchSplit(fsys fs.FS, dir, split, root string) (*Bench, error) {
	show := func(name string) string {
		if root == "" {
			return name
		}
		return filepath.Join(root, filepath.FromSlash(name))
	}
	where := "personality bench"
	if root != "" {
		where += " " + root
	}
	name := path.Join(dir, DescriptionsFile)
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	desc, err := ParseDescriptions(show(name), f)
	f.Close()
	if err != nil {
		return nil, err
	}
	b := &Bench{Descriptions: desc, Questions: map[Trait][]string{}}
	qdir := path.Join(dir, split)
	entries, err := fs.ReadDir(fsys, qdir)
	if err != nil {
		return nil, fmt.Errorf("%s questions: %w", where, err)
	}
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".json")
		if e.IsDir() || !ok {
			continue
		}
		t, err := ParseTrait(base)
		if err != nil {
			continue // not a trait file
		}
		if _, dup := b.Questions[t]; dup {
			return nil, fmt.Errorf("%s: two question files for %s", show(qdir), t)
		}
		qname := path.Join(qdir, e.Name())
		qf, err := fsys.Open(qname)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		qs, err := ParseQuestions(show(qname), qf)
		qf.Close()
		if err != nil {
			return nil, err
		}
		b.Questions[t] = qs
	}
	if len(b.Questions) == 0 {
		return nil, fmt.Errorf("%s: no <Trait>.json question file", show(qdir))
	}
	return b, nil
}

// eachLine calls fn with every non-blank line of r and its 1-based number.
func eachLine(name string, r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s:%d: line longer than %d bytes", name, n+1, maxLine)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ParseDescriptions reads a descriptions file (JSON Lines, each line an
// object with exactly the 10 official aspect keys, each a non-empty
// string). name is used in errors, which give the line number.
func ParseDescriptions(name string, r io.Reader) (map[Aspect][]string, error) {
	out := map[Aspect][]string{}
	lines := 0
	err := eachLine(name, r, func(_ int, line []byte) error {
		var obj map[string]string
		if err := json.Unmarshal(line, &obj); err != nil {
			return fmt.Errorf("want an object of 10 description strings: %w", err)
		}
		seen := map[Aspect]bool{}
		for k, v := range obj {
			a, err := ParseAspect(k)
			if err != nil || strings.Contains(k, ":") {
				return fmt.Errorf("unknown key %q (want Trait or Trait_reversed)", k)
			}
			if seen[a] {
				return fmt.Errorf("key %q given twice", k)
			}
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("empty description for %q", k)
			}
			seen[a] = true
		}
		for _, a := range Aspects() {
			if !seen[a] {
				return fmt.Errorf("missing key %q", a.Key())
			}
		}
		for k, v := range obj {
			a, _ := ParseAspect(k)
			out[a] = append(out[a], v)
		}
		lines++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if lines == 0 {
		return nil, fmt.Errorf("%s: no descriptions", name)
	}
	return out, nil
}

// ParseQuestions reads a questions file: JSON Lines {"question": "..."}.
func ParseQuestions(name string, r io.Reader) ([]string, error) {
	var qs []string
	err := eachLine(name, r, func(_ int, line []byte) error {
		var obj struct {
			Question *string `json:"question"`
		}
		if err := json.Unmarshal(line, &obj); err != nil {
			return fmt.Errorf("want {\"question\": \"...\"}: %w", err)
		}
		if obj.Question == nil || strings.TrimSpace(*obj.Question) == "" {
			return fmt.Errorf("missing or empty \"question\"")
		}
		qs = append(qs, *obj.Question)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no questions", name)
	}
	return qs, nil
}
