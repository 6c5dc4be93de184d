package app

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Inducing from a stats folder equals inducing from the dict files that
// `npti neurons` selects from it with the default rule.
func TestInduceFromStats(t *testing.T) {
	model := shared(t, "models", "persona-tiny")
	dir := t.TempDir()
	stats, dicts := filepath.Join(dir, "stats"), filepath.Join(dir, "dicts")
	run := func(args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != 0 {
			t.Fatalf("npti %v: exit %d: %s", args, code, errb.String())
		}
	}
	run("identify", "--model", model, "--data", shared(t, "data", "personalitybench"), "--mode", "teacher",
		"--traits", "extraversion", "--lines", "0-9", "--out", stats)
	run("neurons", "--stats", stats, "--out", dicts)
	answers := func(flag, src, out string) []byte {
		run("induce", "--model", model, flag, src, "--induce", "extraversion:high", "--gamma", "1",
			"--openings", "--limit", "2", "--max-new-tokens", "12", "--out", out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := answers("--stats", stats, filepath.Join(dir, "a.jsonl"))
	b := answers("--neurons", dicts, filepath.Join(dir, "b.jsonl"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("answers differ:\n--stats:   %s\n--neurons: %s", a, b)
	}
}
