package app

import (
	"bytes"
	"errors"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// FuzzDecodeChatRequest: any body gives a request or an OpenAI-style
// error, and a plan from an accepted "npti" field builds or fails cleanly.
func FuzzDecodeChatRequest(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"npti":{"induce":"extraversion:high:1.2,neuroticism:low","mask_fraction":1}}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"stream":true}`))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":null}],"npti":{"induce":"none","scope":"all","policy":"add"}}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":"x"}],"seed":-1,"top_k":3,"top_p":0.5,"n":1}`))
	f.Add([]byte(`[1,2`))
	f.Add([]byte(`{"prompt":"Once upon a time","max_tokens":4,"stop":["."]}`)) // odd length: a completions request
	f.Add([]byte(`{"prompt":["a","b"]} `))
	dir := sharedFor(f, "models", "persona-tiny", "reference-neurons")
	sets, err := servePlanFromFlags(dir, "", 1.4, 0.9, "generated", "skip", 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeChatRequest(bytes.NewReader(b), 1<<16, len(b)%2 == 1)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.msg == "" {
				t.Fatalf("error %v is not an API error", err)
			}
			return
		}
		if req.legacy {
			if _, err := req.promptText(); err != nil || len(req.Messages) > 0 {
				t.Fatalf("accepted as a completions request %s", b)
			}
		} else if len(req.Messages) == 0 {
			t.Fatalf("accepted %s", b)
		}
		if req.NPTI != nil && req.NPTI.MaskFraction != nil && *req.NPTI.MaskFraction > 1 {
			t.Fatalf("accepted %s", b)
		}
		if o, err := sets.build(req.NPTI, 1, 4, 384); err == nil && o != nil && (o.Layers != 4 || len(o.Add) != 4*384) {
			t.Fatalf("override shape %dx%d", o.Layers, o.Neurons)
		}
	})
}

// sharedFor returns a path in the reference data (../shared).
func sharedFor(tb testing.TB, parts ...string) string { return refdata.Path(tb, parts...) }
