package judge

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// DefaultConcurrency is the number of judge requests in flight at once.
const DefaultConcurrency = 4

// Rating is the judge's verdict on one rubric.
type Rating struct {
	// Score is the parsed rating in [1, 5] (0 when OK is false).
	Score float64 `json:"score"`
	// OK is false when the reply held no valid "Rating: [[n]]": such
	// replies are counted as unparsable, never dropped.
	OK bool `json:"ok"`
	// Reply is the judge's full reply.
	Reply string `json:"reply"`
	// Cached says the reply came from the cache.
	Cached bool `json:"cached"`
}

// Judged is an answer with its ratings.
type Judged struct {
	Answer Answer
	// Trait is nil when the answer names no trait; for a multi-trait plan
	// it is the rating of the first item (Traits[0]).
	Trait *Rating
	// Traits rates every trait of the answer's plan, in plan order.
	Traits  []TraitRating
	Fluency Rating
}

// TraitRating is the trait rubric's rating of one trait pole.
type TraitRating struct {
	// Trait is lower case ("neuroticism"), Pole "high" or "low".
	Trait string `json:"trait"`
	Pole  string `json:"pole"`
	Rating
}

// Options configure JudgeAnswers.
type Options struct {
	// Concurrency bounds the requests in flight (0 = DefaultConcurrency).
	Concurrency int
	// Progress, when set, is called after each request (from any worker)
	// with the number of requests done and their total.
	Progress func(done, total int)
}

// job is one rubric for one answer.
type job struct {
	answer int
	trait  bool
	item   int // the plan item of a trait job
	prompt string
}

// JudgeAnswers rates every answer on the trait rubric of each trait of its
// plan (when it names one) and the fluency rubric, and summarises the
// ratings per condition, trait pole and run (see Summarize). A request that still fails after its retries stops the
// run with that error; replies received until then stay in the cache, so
// a rerun resumes where it stopped.
func (c *Client) JudgeAnswers(ctx context.Context, answers []Answer, o Options) ([]Judged, []Summary, error) {
	jobs, err := buildJobs(answers)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Judged, len(answers))
	for i, a := range answers {
		out[i].Answer = a
		asps, _ := a.Aspects() // checked by buildJobs
		for _, asp := range asps {
			out[i].Traits = append(out[i].Traits, TraitRating{Trait: strings.ToLower(string(asp.Trait)), Pole: asp.Pole.String()})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := o.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	feed := make(chan job)
	for range min(n, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range feed {
				reply, cached, err := c.Complete(ctx, jb.prompt)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				if err == nil {
					store(&out[jb.answer], jb, reply, cached)
					done++ // progress counts answered prompts only
					if o.Progress != nil {
						o.Progress(done, len(jobs))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, jb := range jobs {
		if ctx.Err() != nil {
			break
		}
		feed <- jb
	}
	close(feed)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("judge: %w", ctx.Err())
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return out, Summarize(out), nil
}

// buildJobs renders the rubric prompts of every answer.
func buildJobs(answers []Answer) ([]job, error) {
	var jobs []job
	for i, a := range answers {
		asps, err := a.Aspects()
		if err != nil {
			return nil, fmt.Errorf("judge: answer %d: %w", i+1, err)
		}
		for n, asp := range asps {
			p, err := TraitPrompt(asp.Trait, asp.Pole, a.Question, a.Answer)
			if err != nil {
				return nil, fmt.Errorf("judge: answer %d: %w", i+1, err)
			}
			jobs = append(jobs, job{answer: i, trait: true, item: n, prompt: p})
		}
		jobs = append(jobs, job{answer: i, prompt: FluencyPrompt(a.Question, a.Answer)})
	}
	return jobs, nil
}

func store(j *Judged, jb job, reply string, cached bool) {
	score, ok := ParseRating(reply)
	r := Rating{Score: score, OK: ok, Reply: reply, Cached: cached}
	if !jb.trait {
		j.Fluency = r
		return
	}
	j.Traits[jb.item].Rating = r
	if jb.item == 0 {
		j.Trait = &r
	}
}
