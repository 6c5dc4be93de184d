// Package analysis holds the NPTI method outside the forward pass: the Big
// Five traits and their poles, the PersonalityBench data, activation
// statistics on disk, the contrast between poles, neuron selection, the
// official neuron dict files and induction plans that become a
// hook.Override. It imports neither GoMLX nor Fyne.
package analysis

import (
	"fmt"
	"strings"
)

// Trait is one of the Big Five, by its canonical capitalised name.
type Trait string

// The Big Five, in the order of the official code.
const (
	Openness          Trait = "Openness"
	Conscientiousness Trait = "Conscientiousness"
	Extraversion      Trait = "Extraversion"
	Agreeableness     Trait = "Agreeableness"
	Neuroticism       Trait = "Neuroticism"
)

// Traits returns the Big Five in the official order.
func Traits() []Trait {
	return []Trait{Openness, Conscientiousness, Extraversion, Agreeableness, Neuroticism}
}

// ParseTrait parses a trait name, case-insensitively ("extraversion").
func ParseTrait(s string) (Trait, error) {
	for _, t := range Traits() {
		if strings.EqualFold(strings.TrimSpace(s), string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown trait %q (want one of openness, conscientiousness, extraversion, agreeableness, neuroticism)", s)
}

// Pole is one end of a trait: High (official key "Trait") or Low (official
// key "Trait_reversed").
type Pole int

// The two poles of a trait.
const (
	High Pole = iota
	Low
)

func (p Pole) String() string {
	switch p {
	case High:
		return "high"
	case Low:
		return "low"
	}
	return fmt.Sprintf("Pole(%d)", int(p))
}

// Opposite returns the other pole.
func (p Pole) Opposite() Pole {
	if p == High {
		return Low
	}
	return High
}

// ParsePole parses "high" or "low" (case-insensitive).
func ParsePole(s string) (Pole, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "high":
		return High, nil
	case "low":
		return Low, nil
	}
	return 0, fmt.Errorf("unknown pole %q (want high or low)", s)
}

// Aspect is one pole of one trait, the unit NPTI identifies neurons for.
type Aspect struct {
	Trait Trait
	Pole  Pole
}

// reversedSuffix marks the low pole in official keys and file names.
const reversedSuffix = "_reversed"

// Key returns the official key: "Extraversion" for the high pole,
// "Extraversion_reversed" for the low pole.
func (a Aspect) Key() string {
	if a.Pole == Low {
		return string(a.Trait) + reversedSuffix
	}
	return string(a.Trait)
}

func (a Aspect) String() string { return string(a.Trait) + " " + a.Pole.String() }

// Opposite returns the other pole of the same trait.
func (a Aspect) Opposite() Aspect { return Aspect{a.Trait, a.Pole.Opposite()} }

// ParseAspect parses an official key ("Extraversion_reversed", any case)
// or the form "trait:pole" ("extraversion:low").
func ParseAspect(s string) (Aspect, error) {
	if name, pole, ok := strings.Cut(s, ":"); ok {
		t, err := ParseTrait(name)
		if err != nil {
			return Aspect{}, err
		}
		p, err := ParsePole(pole)
		if err != nil {
			return Aspect{}, err
		}
		return Aspect{t, p}, nil
	}
	pole := High
	if len(s) > len(reversedSuffix) && strings.EqualFold(s[len(s)-len(reversedSuffix):], reversedSuffix) {
		s, pole = s[:len(s)-len(reversedSuffix)], Low
	}
	t, err := ParseTrait(s)
	if err != nil {
		return Aspect{}, err
	}
	return Aspect{t, pole}, nil
}

// Aspects returns the ten aspects in the official order: the five high
// poles, then the five low poles.
func Aspects() []Aspect {
	var as []Aspect
	for _, p := range []Pole{High, Low} {
		for _, t := range Traits() {
			as = append(as, Aspect{t, p})
		}
	}
	return as
}

// Facets returns the six IPIP-NEO facets of a trait (NPTI.md §5), or nil
// for an unknown trait.
func Facets(t Trait) []string {
	switch t {
	case Openness:
		return []string{"imagination", "artistic interests", "emotionality", "adventurousness", "intellect", "liberalism"}
	case Conscientiousness:
		return []string{"self-efficacy", "orderliness", "dutifulness", "achievement-striving", "self-discipline", "cautiousness"}
	case Extraversion:
		return []string{"friendliness", "gregariousness", "assertiveness", "activity level", "excitement-seeking", "cheerfulness"}
	case Agreeableness:
		return []string{"trust", "morality", "altruism", "cooperation", "modesty", "sympathy"}
	case Neuroticism:
		return []string{"anxiety", "anger", "depression", "self-consciousness", "immoderation", "vulnerability"}
	}
	return nil
}
