// Package judge rates answers with an LLM judge reached through any
// OpenAI-compatible chat-completions endpoint (NPTI.md §5): a trait rubric
// naming the trait's six IPIP-NEO facets and a fluency rubric, each asking
// for a 1–5 score that ends the reply as "Rating: [[n]]". Replies whose
// rating cannot be read are counted, never dropped. Calls are retried,
// time-limited, cached on disk and run with bounded concurrency.
package judge

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/analysis"
)

// Rating scale bounds.
const (
	MinScore = 1
	MaxScore = 5
)

// TraitPrompt is the trait rubric: how strongly answer (to question) shows
// the given pole of trait, judged on the trait's six facets, 1–5.
func TraitPrompt(trait analysis.Trait, pole analysis.Pole, question, answer string) (string, error) {
	facets := analysis.Facets(trait)
	if facets == nil {
		return "", fmt.Errorf("judge: unknown trait %q", trait)
	}
	if pole != analysis.High && pole != analysis.Low {
		return "", fmt.Errorf("judge: bad pole %v", pole)
	}
	level, shows := "high", "a strong presence"
	if pole == analysis.Low {
		level, shows = "low", "a marked absence or the opposite"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You are an impartial psychologist rating a written answer for personality.\n\n")
	fmt.Fprintf(&b, "Target: %s %s. In the Big Five model, %s covers six facets: %s.\n",
		level, strings.ToLower(string(trait)), strings.ToLower(string(trait)), strings.Join(facets, ", "))
	fmt.Fprintf(&b, "A %s-%s answer shows %s of these facets in what the writer says, feels and does.\n\n",
		level, strings.ToLower(string(trait)), shows)
	fmt.Fprintf(&b, "Score how strongly the answer expresses %s %s:\n", level, strings.ToLower(string(trait)))
	b.WriteString("1 = not at all (neutral, or it leans the other way)\n2 = slightly\n3 = moderately\n4 = clearly\n5 = very strongly, throughout the answer\n")
	b.WriteString("Judge the personality the answer reveals, not its quality, length or correctness.\n\n")
	writeQA(&b, question, answer)
	b.WriteString("Give a short justification, then end your reply with the score in exactly this form: Rating: [[n]]")
	return b.String(), nil
}

// FluencyPrompt is the fluency rubric: how fluent and coherent answer is, 1–5.
func FluencyPrompt(question, answer string) string {
	var b strings.Builder
	b.WriteString("You are an impartial editor rating the language of a written answer.\n\n")
	b.WriteString("Score its fluency: grammar, word choice, coherence, and whether it stays on the question without repetition or broken text.\n")
	b.WriteString("1 = incoherent or broken\n2 = hard to follow, many errors\n3 = understandable with clear flaws\n4 = fluent with minor flaws\n5 = fully fluent and natural\n")
	b.WriteString("Ignore the opinions and personality the answer expresses.\n\n")
	writeQA(&b, question, answer)
	b.WriteString("Give a short justification, then end your reply with the score in exactly this form: Rating: [[n]]")
	return b.String()
}

func writeQA(b *strings.Builder, question, answer string) {
	fmt.Fprintf(b, "[Question]\n%s\n\n[Answer]\n%s\n[End of answer]\n\n", question, answer)
}

// ratingRE matches "Rating: [[n]]": case-insensitive, spaces allowed around
// the colon and inside the brackets, optional markdown bold around
// "Rating:", n a decimal number.
var ratingRE = regexp.MustCompile(`(?i)rating\s*\**\s*:\s*\**\s*\[\[\s*([0-9]{1,6}(?:\.[0-9]{1,6})?)\s*\]\]`)

// ParseRating reads the judge's verdict from reply: the LAST "Rating:
// [[n]]" in it. Accepted: "Rating: [[4]]", "rating:[[ 4 ]]", "**Rating:**
// [[4]]", "Rating: [[4.0]]" and half points such as "Rating: [[3.5]]" (a
// decimal is kept as is, not rounded). The last match decides: when its
// number lies outside [1, 5] the reply is unparsable even if an earlier
// match was valid. ok is false when the reply holds no valid rating.
func ParseRating(reply string) (score float64, ok bool) {
	ms := ratingRE.FindAllStringSubmatch(reply, -1)
	if len(ms) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(ms[len(ms)-1][1], 64)
	if err != nil || v < MinScore || v > MaxScore {
		return 0, false
	}
	return v, true
}
