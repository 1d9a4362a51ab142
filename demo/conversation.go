package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"pf-registry/model"
)

// A conversation is a timeline: message i depends only on the seed of its
// stream and on i, so images of one project share every message before
// the point where they diverge, and their ledgers share the effects of
// those messages.
type timeline struct{ spec ImageSpec }

// ownStream separates an image's own content from its project's, even
// when both use the same seed.
const ownStream = 0x9e3779b97f4a7c15

func (tl *timeline) own(i int) bool { return tl.spec.Diverge > 0 && i >= tl.spec.Diverge }

func (tl *timeline) seedFor(i int) uint64 {
	if tl.own(i) {
		return tl.spec.Seed ^ ownStream
	}
	return tl.spec.Project
}

// scenario is how message i is written: by the project's agent, or by
// this image's after it diverged.
func (tl *timeline) scenario(i int) *scenario {
	if tl.own(i) {
		return scenarioFor(tl.spec.Agent)
	}
	return scenarioFor(tl.spec.ProjectAgent)
}

func (tl *timeline) rng(i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(tl.seedFor(i), uint64(i)<<8|stream))
}

// isCall: after the system prompt and the task, turns repeat in sixes:
// call, result, call, result, explanation, follow-up.
func isCall(i int) bool { return i >= 2 && (i-2)%6%2 == 0 && (i-2)%6 < 4 }

// call is the tool call made at message i.
type call struct {
	id     string
	tool   toolSpec
	input  map[string]any
	output string
}

func (tl *timeline) call(i int) call {
	r := tl.rng(i, 1)
	t := tl.scenario(i).pick(r)
	in, out := t.run(r, tl.spec)
	return call{id: fmt.Sprintf("toolu_%016x", r.Uint64()), tool: t, input: in, output: out}
}

func (tl *timeline) message(i int) map[string]any {
	r, sc := tl.rng(i, 0), tl.scenario(i)
	switch {
	case i == 0:
		return map[string]any{"role": "system", "content": sc.system}
	case i == 1:
		return map[string]any{"role": "user", "content": sc.tasks[r.IntN(len(sc.tasks))]}
	}
	switch (i - 2) % 6 {
	case 0, 2:
		c := tl.call(i)
		return map[string]any{"role": "assistant", "content": []any{
			map[string]any{"type": "text", "text": sc.lead(r, c)},
			map[string]any{"type": "tool_use", "id": c.id, "name": c.tool.name, "input": c.input},
		}}
	case 1, 3:
		c := tl.call(i - 1)
		return map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "tool_result", "tool_use_id": c.id, "content": c.output},
		}}
	case 4:
		return map[string]any{"role": "assistant", "content": tl.explain(r, sc)}
	}
	return map[string]any{"role": "user", "content": sc.followups[r.IntN(len(sc.followups))]}
}

// explain is an assistant's account of its progress: a few paragraphs
// from the scenario's templates, with names from the project.
func (tl *timeline) explain(r *rand.Rand, sc *scenario) string {
	paras := make([]string, 0, 4)
	for p := 0; p < 2+r.IntN(3); p++ {
		file, _ := aFile(r, tl.spec)
		t := sc.explain[r.IntN(len(sc.explain))]
		paras = append(paras, strings.NewReplacer(
			"{file}", file, "{fn}", word(r)+"_"+word(r), "{n}", fmt.Sprint(20+r.IntN(60)),
			"{k}", fmt.Sprint(2+r.IntN(5)), "{topic}", word(r)+" "+word(r), "{ms}", fmt.Sprint(3+r.IntN(40)),
		).Replace(t))
	}
	return strings.Join(paras, "\n\n")
}

// trace is the JSONL trace of the first n messages, keys sorted as the pf
// CLI writes them.
func (tl *timeline) trace(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(append(b, sortedJSON(tl.message(i))...), '\n')
	}
	return b
}

// start is when a project's conversation began.
func (tl *timeline) start() time.Time {
	return time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC).Add(time.Duration(tl.spec.Project%24) * time.Hour)
}

// sessionSecret is the project's session key (hex), unless the spec sets
// one.
func (tl *timeline) sessionSecret() string {
	if tl.spec.SessionSecret != "" {
		return tl.spec.SessionSecret
	}
	h := sha256.Sum256(fmt.Appendf(nil, "demo session %d", tl.spec.Project))
	return hex.EncodeToString(h[:])
}

// ledger is the effects ledger of the first n messages: one entry per tool
// call, chained with HMAC-SHA256 under the session secret, which the
// header carries (as newer pf versions write it).
func (tl *timeline) ledger(n int) []byte {
	secret := tl.sessionSecret()
	key, _ := hex.DecodeString(secret)
	var entries [][]byte
	prev := ""
	for i := 0; i < n; i++ {
		if !isCall(i) {
			continue
		}
		c := tl.call(i)
		args, result := sha256.Sum256(sortedJSON(c.input)), sha256.Sum256([]byte(c.output))
		e := map[string]any{
			"ts":                model.FormatTime(tl.start().Add(time.Duration(i) * 40 * time.Second)),
			"tool_id":           c.tool.name,
			"side_effect_class": string(c.tool.class),
			"args_hash":         hex.EncodeToString(args[:]),
			"result_hash":       hex.EncodeToString(result[:]),
			"idempotency_key":   "ik-" + c.id[6:],
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(prev))
		mac.Write(sortedJSON(e))
		prev = hex.EncodeToString(mac.Sum(nil))
		e["session_hmac"] = prev
		entries = append(entries, sortedJSON(e))
	}
	head := sortedJSON(map[string]any{"kind": model.LedgerKind, "entries": len(entries),
		"session_secret_hex": secret, "verification_mode": "hmac-chain"})
	out := append(head, '\n')
	for _, e := range entries {
		out = append(append(out, e...), '\n')
	}
	return out
}
