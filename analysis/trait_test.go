package analysis

import (
	"slices"
	"testing"
)

func TestParseAspect(t *testing.T) {
	tests := []struct {
		in      string
		want    Aspect
		wantErr bool
	}{
		{"Extraversion", Aspect{Extraversion, High}, false},
		{"extraversion_reversed", Aspect{Extraversion, Low}, false},
		{"NEUROTICISM_Reversed", Aspect{Neuroticism, Low}, false},
		{"openness:high", Aspect{Openness, High}, false},
		{"Agreeableness:LOW", Aspect{Agreeableness, Low}, false},
		{"agreeableness:medium", Aspect{}, true},
		{"_reversed", Aspect{}, true},
		{"Extraversions", Aspect{}, true},
		{"", Aspect{}, true},
	}
	for _, tt := range tests {
		got, err := ParseAspect(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAspect(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAspectKeys(t *testing.T) {
	var keys []string
	for _, a := range Aspects() {
		keys = append(keys, a.Key())
		back, err := ParseAspect(a.Key())
		if err != nil || back != a {
			t.Errorf("ParseAspect(%q) = %v, %v", a.Key(), back, err)
		}
		if a.Opposite().Opposite() != a || a.Opposite() == a {
			t.Errorf("Opposite of %v broken", a)
		}
	}
	want := []string{"Openness", "Conscientiousness", "Extraversion", "Agreeableness", "Neuroticism",
		"Openness_reversed", "Conscientiousness_reversed", "Extraversion_reversed", "Agreeableness_reversed", "Neuroticism_reversed"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
	if p, err := ParsePole(" Low "); err != nil || p != Low {
		t.Errorf("ParsePole(Low) = %v, %v", p, err)
	}
	if _, err := ParsePole("up"); err == nil {
		t.Error("ParsePole(up): no error")
	}
}

func TestFacets(t *testing.T) {
	for _, tr := range Traits() {
		f := Facets(tr)
		if len(f) != 6 {
			t.Errorf("Facets(%s) has %d facets, want 6", tr, len(f))
		}
	}
	if f := Facets(Extraversion); f[0] != "friendliness" || f[5] != "cheerfulness" {
		t.Errorf("Facets(Extraversion) = %v", f)
	}
	if f := Facets(Neuroticism); !slices.Contains(f, "immoderation") {
		t.Errorf("Facets(Neuroticism) = %v", f)
	}
	if Facets("Humour") != nil {
		t.Error("Facets of an unknown trait is not nil")
	}
}
