// Command pf-registry browses, verifies, pulls and pushes ProcessFork
// snapshot images in file, Hugging Face, S3, IPFS and OCI registries.
package main

import (
	"os"

	"pf-registry/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
