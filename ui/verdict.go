package ui

import (
	"pf-registry/internal/termtext"
	"pf-registry/registry"
	"pf-registry/signing"
)

// gate is what a pull or copy of an image may do, given its verdict.
type gate int

const (
	gateGo     gate = iota // start at once
	gateAsk                // yes can succeed, but the signature is weak: ask
	gateRefuse             // the engine would refuse: say why, ask nothing
)

// transferGate is the one rule deciding whether a pull or copy of an image
// with this verdict can succeed, and so whether to start it, ask, or refuse
// at once. It follows the engine's policy (the signing level that applies
// to the image: with any every signature that verifies passes, with signed
// the public default key does not, with trusted only a trusted key does),
// so a status added to signing is judged by its rank, not by a list kept
// here.
func transferGate(status, reason string, level signing.Level) (gate, string) {
	switch status {
	case termtext.VerdictPending, "":
		return gateAsk, "its signature has not been checked yet; the transfer checks it and refuses an invalid or missing one."
	case termtext.VerdictError:
		return gateAsk, "it could not be inspected (" + reason + "); the transfer tries again and checks the signature."
	case termtext.VerdictForeign:
		return gateRefuse, "it is not a ProcessFork image"
	case termtext.VerdictLocal:
		return gateGo, ""
	}
	s := signing.Status(status)
	if !level.Accepts(s) {
		switch s {
		case signing.Missing:
			return gateRefuse, "it has no signature"
		case signing.Invalid:
			why := "its signature does not verify"
			if reason != "" {
				why += " (" + reason + ")"
			}
			return gateRefuse, why
		case signing.DefaultKey:
			return gateRefuse, "it is signed only with the public default key (" + string(level) + " signatures required)"
		}
		return gateRefuse, "its signature is " + status + ", and " + string(level) + " signatures are required (trust the signer's key with `pf-registry keys trust`)"
	}
	if s.Rank() <= signing.DefaultKey.Rank() {
		return gateAsk, "it is signed with the public default key, so anyone could have made it."
	}
	return gateGo, ""
}

// requireFor is the signature level the engine applies to an image read
// from ref (--require, --strict and the config's require:).
func (sh *shared) requireFor(ref string) signing.Level {
	r, err := registry.ParseRef(ref)
	if err != nil {
		return sh.regCfg.Policy.Require.Stronger(signing.RequireAny)
	}
	level, _ := sh.regCfg.Policy.For(r)
	return level
}
