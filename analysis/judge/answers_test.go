package judge

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeAnswers(t *testing.T) {
	in := `{"question":"q","condition":"npti","trait":"Extraversion","pole":"low","gamma":1.4,"answer":"a","seed":7}

{"question":"q","condition":"base","trait":"neuroticism","pole":1,"answer":"b"}
{"question":"q","condition":"plain","answer":"c"}
`
	as, err := DecodeAnswers(strings.NewReader(in), "a.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 || as[0].Gamma != 1.4 || as[0].Pole != "low" || as[1].Pole != "low" || as[2].Trait != "" {
		t.Fatalf("%+v", as)
	}
	if asp, ok, err := as[1].Aspect(); err != nil || !ok || asp.String() != "Neuroticism low" {
		t.Errorf("aspect %v %v %v", asp, ok, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"{\"answer\":\"a\"}\nnot json\n", "a.jsonl:2: not a JSON object"},
		{`{"question":"q"}`, `a.jsonl:1: no "answer" field`},
		{`{"answer":"a","trait":"humour","pole":"high"}`, `unknown trait "humour"`},
		{`{"answer":"a","trait":"openness","pole":"up"}`, `unknown pole "up"`},
		{`{"answer":"a","trait":"openness","pole":3}`, `pole 3`},
		{`{"answer":5}`, "a.jsonl:1:"},
		{"\n\n", "a.jsonl: no records"},
	} {
		if _, err := DecodeAnswers(strings.NewReader(tc.in), "a.jsonl"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestWriteJudgedKeepsFields(t *testing.T) {
	as, err := DecodeAnswers(strings.NewReader(`{"question":"q","condition":"c","trait":"openness","pole":"high","answer":"a","seed":7}`), "x")
	if err != nil {
		t.Fatal(err)
	}
	js := []Judged{{Answer: as[0], Trait: &Rating{Score: 4, OK: true, Reply: "Rating: [[4]]"}, Fluency: Rating{Reply: "?"}},
		{Answer: Answer{Question: "q2", Answer: "b"}, Fluency: Rating{Score: 2, OK: true}}}
	var buf bytes.Buffer
	if err := WriteJudged(&buf, js); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var rec map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &rec) != nil {
		t.Fatalf("output %q", buf.String())
	}
	tr, _ := rec["trait_rating"].(map[string]any)
	fl, _ := rec["fluency_rating"].(map[string]any)
	if rec["seed"] != 7.0 || tr["score"] != 4.0 || fl["ok"] != false || rec["answer"] != "a" {
		t.Errorf("record %v", rec)
	}
	if strings.Contains(lines[1], "trait_rating") || !strings.Contains(lines[1], `"answer":"b"`) {
		t.Errorf("second record %s", lines[1])
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	WriteTable(&buf, []Summary{{Condition: "npti", Aspect: "openness:high", Answers: 3,
		Trait: Stat{N: 2, Unparsable: 1, Mean: 3.5, SD: 0.70710678}, Fluency: Stat{N: 3, Mean: 4}}})
	out := buf.String()
	for _, w := range []string{"condition", "npti", "openness:high", "3.50", "0.71", "4.00"} {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
}

// FuzzDecodeAnswers checks that any input gives records or an error
// naming the file, never a panic.
func FuzzDecodeAnswers(f *testing.F) {
	f.Add([]byte(`{"question":"q","condition":"c","trait":"openness","pole":"high","answer":"a"}`))
	f.Add([]byte(`{"answer":"a","pole":1,"trait":"neuroticism"}` + "\n{}"))
	f.Add([]byte("\xff\n{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := DecodeAnswers(bytes.NewReader(b), "fuzz.jsonl")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		for _, a := range as {
			if _, _, err := a.Aspect(); err != nil {
				t.Fatalf("accepted bad aspect: %v", err)
			}
		}
	})
}
