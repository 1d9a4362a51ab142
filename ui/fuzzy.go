package ui

import (
	"strings"
	"unicode"
)

// fuzzyScore matches pattern as a case-insensitive subsequence of s and
// scores it: consecutive runs and matches at word starts score higher, so
// "av1" ranks "alpha/v1" above "a-very-long-v1". ok is false when pattern
// is not a subsequence.
func fuzzyScore(pattern, s string) (score int, ok bool) {
	if pattern == "" {
		return 0, true
	}
	pr := []rune(pattern)
	pi := 0
	prevMatch := -2
	prev := rune(0)
	i := 0
	for _, r := range s {
		if pi < len(pr) && fold(r) == fold(pr[pi]) {
			score++
			if prevMatch == i-1 {
				score += 4
			}
			if i == 0 || isSep(prev) {
				score += 3
			}
			prevMatch = i
			pi++
		}
		prev = r
		i++
	}
	if pi < len(pr) {
		return 0, false
	}
	// A literal substring beats any scattered match.
	if strings.Contains(strings.ToLower(s), strings.ToLower(pattern)) {
		score += 8 * len(pr)
	}
	// Shorter candidates rank higher among equal matches.
	return score*64 - min(i, 63), true
}

func fold(r rune) rune {
	if r < 128 {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}
	return unicode.ToLower(r)
}

func isSep(r rune) bool {
	switch r {
	case '/', '-', '_', '.', ':', ' ', '@':
		return true
	}
	return false
}

// fuzzyPositions are the rune indices of s that pattern matches: the
// first literal occurrence when there is one, else the greedy subsequence.
// nil when pattern does not match.
func fuzzyPositions(pattern, s string) []int {
	if pattern == "" {
		return nil
	}
	pr := []rune(strings.ToLower(pattern))
	sr := []rune(strings.ToLower(s))
	if i := indexRunes(sr, pr); i >= 0 {
		out := make([]int, len(pr))
		for k := range out {
			out[k] = i + k
		}
		return out
	}
	var out []int
	pi := 0
	for i, r := range sr {
		if pi < len(pr) && fold(r) == fold(pr[pi]) {
			out = append(out, i)
			pi++
		}
	}
	if pi < len(pr) {
		return nil
	}
	return out
}

func indexRunes(s, sub []rune) int {
outer:
	for i := 0; i+len(sub) <= len(s); i++ {
		for k, r := range sub {
			if s[i+k] != r {
				continue outer
			}
		}
		return i
	}
	return -1
}
