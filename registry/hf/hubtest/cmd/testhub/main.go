// Command testhub runs the test hub standalone on loopback and prints its
// URL on the first line of stdout, for clients in other languages.
//
//	go run ./registry/hf/hubtest/cmd/testhub -addr 127.0.0.1:0 -token hf_test:alice
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"pf-registry/registry/hf/hubtest"
)

func main() {
	var opt hubtest.Options
	var tokens multiFlag
	flag.StringVar(&opt.Addr, "addr", "127.0.0.1:0", "loopback address to listen on")
	flag.StringVar(&opt.Dir, "dir", "", "storage directory (default: a temp dir removed on exit)")
	flag.IntVar(&opt.TreePageSize, "tree-page", 0, "tree listing page size (default 1000)")
	flag.IntVar(&opt.ListPageSize, "list-page", 0, "repo listing page size (default 1000)")
	flag.Int64Var(&opt.MultipartAbove, "multipart-above", 0, "LFS objects above this size use multipart (default 8 MiB)")
	flag.Int64Var(&opt.ChunkSize, "chunk-size", 0, "multipart part size (default 5 MiB)")
	flag.Var(&tokens, "token", "token:user accepted with write access (repeatable; token must start with hf_)")
	flag.Parse()

	h, err := hubtest.New(opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testhub:", err)
		os.Exit(1)
	}
	defer h.Close()
	for _, t := range tokens {
		tok, user, ok := strings.Cut(t, ":")
		if !ok || !strings.HasPrefix(tok, "hf_") || user == "" {
			fmt.Fprintln(os.Stderr, "testhub: -token wants hf_<token>:<user>")
			os.Exit(2)
		}
		h.AddToken(tok, user, true)
	}
	fmt.Println(h.URL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
