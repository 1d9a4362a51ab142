package demo

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"pf-registry/model"
)

// scenario is how one kind of agent talks and what tools it uses.
type scenario struct {
	system    string
	tasks     []string
	followups []string
	explain   []string // paragraphs with {file} {fn} {n} {k} {topic} {ms} slots
	tools     []toolSpec
}

// toolSpec is a tool, the class of effect it has on the world, how often
// the agent uses it, and what one use looks like.
type toolSpec struct {
	name   string
	class  model.EffectClass
	weight int
	run    func(r *rand.Rand, spec ImageSpec) (input map[string]any, output string)
}

func (sc *scenario) pick(r *rand.Rand) toolSpec {
	total := 0
	for _, t := range sc.tools {
		total += t.weight
	}
	n := r.IntN(total)
	for _, t := range sc.tools {
		if n -= t.weight; n < 0 {
			return t
		}
	}
	return sc.tools[0]
}

func (sc *scenario) lead(r *rand.Rand, c call) string {
	leads := []string{"Let me check this first.", "I'll look at the current state.", "Next step:", "Running this now.",
		"To confirm the change works:", "I need more context before editing."}
	s := leads[r.IntN(len(leads))]
	if c.tool.class == model.EffectIrreversible {
		s += " This cannot be undone once it runs."
	}
	return s
}

func scenarioFor(agent string) *scenario {
	switch agent {
	case "research-bot":
		return &research
	case "ci-runner":
		return &nightly
	case "merge-bot":
		return &merger
	}
	return &coding
}

// toolFiles: tools pick among the first files of the project, whatever
// the image holds, so that a message is the same in every image of the
// project.
const toolFiles = 6

// aFile is one of the project's text files, with its project content.
func aFile(r *rand.Rand, spec ImageSpec) (string, string) {
	for {
		i := r.IntN(toolFiles)
		p := FilePath(spec.ProjectAgent, i)
		if path.Ext(p) != ".png" {
			return p, string(fileContent(p, spec.Project, i))
		}
	}
}

func lines(r *rand.Rand, n int, f func(i int) string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(f(i) + "\n")
	}
	return b.String()
}

var (
	readFile = toolSpec{"read_file", model.EffectPure, 4, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		p, content := aFile(r, spec)
		return map[string]any{"path": p}, content
	}}
	editFile = toolSpec{"edit_file", model.EffectIdempotent, 4, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		p, _ := aFile(r, spec)
		old, new := word(r)+"_"+word(r), word(r)+"_"+word(r)
		return map[string]any{"path": p, "old": old, "new": new},
			fmt.Sprintf("Applied 1 edit to %s (+%d −%d lines)", p, 1+r.IntN(12), r.IntN(8))
	}}
	pytest = toolSpec{"bash", model.EffectIdempotent, 3, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		n := 20 + r.IntN(40)
		failed := r.IntN(3)
		out := fmt.Sprintf("============================= test session starts ==============================\ncollected %d items\n\n", n)
		out += lines(r, 4+r.IntN(6), func(int) string {
			return fmt.Sprintf("tests/test_%s.py %s", word(r), strings.Repeat(".", 3+r.IntN(12)))
		})
		if failed > 0 {
			out += fmt.Sprintf("\nFAILED tests/test_%s.py::test_%s_%s - AssertionError: expected %d, got %d\n", word(r), word(r), word(r), r.IntN(64), r.IntN(64))
		}
		return map[string]any{"command": "pytest -q tests/"}, out + fmt.Sprintf("\n%d passed, %d failed in %.2fs\n", n-failed, failed, 1+r.Float64()*9)
	}}
	gitCommit = toolSpec{"git.commit", model.EffectIdempotent, 2, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		msg := "cache: " + word(r) + " " + word(r) + " before " + word(r)
		return map[string]any{"message": msg, "all": true},
			fmt.Sprintf("[%s %07x] %s\n %d files changed, %d insertions(+), %d deletions(-)", branch(spec), r.Uint32()>>4, msg, 1+r.IntN(5), r.IntN(90), r.IntN(40))
	}}
	gitPush = toolSpec{"git.push", model.EffectIrreversible, 2, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		b := branch(spec)
		return map[string]any{"remote": "origin", "branch": b},
			fmt.Sprintf("To github.com:example/%s.git\n   %07x..%07x  %s -> %s", words[spec.Project%uint64(len(words))], r.Uint32()>>4, r.Uint32()>>4, b, b)
	}}
	httpGet = toolSpec{"http.get", model.EffectNetworkOnly, 1, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		url := "https://docs.example.org/" + word(r) + "/" + word(r) + ".html"
		return map[string]any{"url": url}, "HTTP/1.1 200 OK\ncontent-type: text/html\n\n" + sentence(r, 40+r.IntN(80))
	}}
	webSearch = toolSpec{"web.search", model.EffectNetworkOnly, 3, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		q := word(r) + " " + word(r) + " kv cache paging"
		return map[string]any{"query": q, "max_results": 8}, lines(r, 8, func(i int) string {
			return fmt.Sprintf("%d. %s — https://arxiv.example.org/abs/26%02d.%05d", i+1, sentence(r, 6+r.IntN(6)), 1+r.IntN(12), r.IntN(99999))
		})
	}}
	writeNote = toolSpec{"write_note", model.EffectIdempotent, 2, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		text := sentence(r, 30+r.IntN(60))
		return map[string]any{"path": "notes/" + word(r) + ".md", "text": text}, fmt.Sprintf("wrote %d bytes", len(text))
	}}
	sendEmail = toolSpec{"email.send", model.EffectIrreversible, 2, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		return map[string]any{"to": "research-team@example.com", "subject": "Weekly digest: " + word(r) + " " + word(r)},
			fmt.Sprintf("queued message <%016x@mail.example.com>", r.Uint64())
	}}
	makeBuild = toolSpec{"bash", model.EffectIdempotent, 3, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		return map[string]any{"command": "make build"}, lines(r, 15+r.IntN(30), func(i int) string {
			return fmt.Sprintf("[%3d%%] Building %s/%s.o", i*100/45, word(r), word(r))
		})
	}}
	publish = toolSpec{"docker.push", model.EffectIrreversible, 1, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		return map[string]any{"image": "registry.example.com/agent:nightly"},
			fmt.Sprintf("nightly: digest: sha256:%016x%016x%016x%016x size: 2841", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
	}}
	chatPost = toolSpec{"chat.post", model.EffectNetworkOnly, 1, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		return map[string]any{"channel": "#nightly", "text": "Nightly build " + word(r) + ": " + sentence(r, 8)}, `{"ok":true}`
	}}
	gitMerge = toolSpec{"git.merge", model.EffectIdempotent, 3, func(r *rand.Rand, spec ImageSpec) (map[string]any, string) {
		return map[string]any{"branch": "research/" + word(r)}, "Auto-merging src/cache/pages.py\nMerge made by the 'ort' strategy.\n" +
			lines(r, 3+r.IntN(5), func(int) string { return fmt.Sprintf(" src/%s/%s.py | %d ++--", word(r), word(r), 2+r.IntN(30)) })
	}}
)

// branch is the project's working branch.
func branch(spec ImageSpec) string { return "agent/" + words[spec.Project%uint64(len(words))] }

var coding = scenario{
	system: "You are a coding agent working in a Python repository. Use the tools to read, edit and test code. Run the tests before every commit; push only when asked.",
	tasks: []string{
		"Refactor the page eviction in src/cache/evict.py so that pinned pages are never evicted.",
		"Add a prefetch step to the KV cache and cover it with tests.",
		"Find out why test_planner is flaky and fix it.",
		"Split the planner into a parser and a scheduler without changing behaviour.",
	},
	followups: []string{"Looks good. Can you also update the design doc?", "Run the whole suite again, please.",
		"Push it when the tests pass.", "Why did that test fail? Explain before changing anything.",
		"Keep the public API unchanged."},
	explain: []string{
		"The failure comes from {file}: {fn} returns early when a page is pinned, so the eviction loop never advances and the test times out.",
		"I changed {file} to keep a reference count per page; pages with a non-zero count are skipped by the evictor, and {fn} releases the count when a sequence ends.",
		"All {n} tests pass now. The change touches {k} files and keeps the public API unchanged.",
		"Before going further I want to confirm how {fn} behaves under concurrent access: the lock is held across the I/O call, which would explain the flaky timing.",
		"Summary so far:\n- {fn} no longer allocates per call\n- the planner tests cover the empty-queue case\n- {file} still needs a docstring update",
	},
	tools: []toolSpec{readFile, editFile, pytest, gitCommit, gitPush, httpGet},
}

var research = scenario{
	system: "You are a research assistant. Search the literature, keep notes in the notes/ folder and send the team a digest at the end of each day.",
	tasks: []string{
		"Survey recent work on paged KV caches and summarise the trade-offs.",
		"Compare eviction policies for long-context inference and plot their latency.",
		"Collect benchmarks of prefix caching and note the hardware they used.",
	},
	followups: []string{"Add the three most cited papers to the reading list.", "Send the digest now.",
		"Which of these results were reproduced independently?", "Plot latency against context length."},
	explain: []string{
		"Three of the papers agree that {topic} dominates latency beyond 32k tokens; the others measure on older hardware and are not comparable.",
		"I added {k} entries to the reading list in {file}. The most relevant one reports a {ms} ms p99 improvement from paging alone.",
		"The benchmark numbers in {file} were not reproduced independently; I marked them as unconfirmed.",
		"Open question: does {topic} still help when the prefix cache hit rate is above 80%? None of the {n} results I read answers it.",
	},
	tools: []toolSpec{webSearch, httpGet, readFile, writeNote, sendEmail},
}

var nightly = scenario{
	system: "You are the nightly CI runner. Build, test, and publish the agent image when everything passes; report in #nightly.",
	tasks:  []string{"Run the nightly build and publish it if the tests pass."},
	followups: []string{"Retry the failed step once.", "Report the result in #nightly.",
		"Publish anyway; the failure is a known flake."},
	explain: []string{
		"Build finished in {ms} s; {n} tests ran. {file} changed since the last nightly.",
		"One flaky test again ({fn}); it passed on retry, as it has on {k} of the last nights.",
		"The image is published and the digest is posted in #nightly.",
	},
	tools: []toolSpec{makeBuild, pytest, publish, chatPost},
}

var merger = scenario{
	system: "You merge research branches into the main line, resolve conflicts conservatively and keep the tests green.",
	tasks:  []string{"Merge the research findings on eviction into the refactored cache."},
	followups: []string{"Resolve the conflict in pages.py in favour of the refactor.", "Run the tests after the merge.",
		"Push the merge."},
	explain: []string{
		"The merge conflicted in {file}; I kept the refactored eviction and ported {fn} from the research branch on top of it.",
		"After the merge all {n} tests pass. {k} files came from the research branch unchanged.",
		"The research branch also changed {topic}; I left that out because the refactor replaces it.",
	},
	tools: []toolSpec{gitMerge, readFile, pytest, gitPush},
}
