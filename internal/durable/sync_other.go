//go:build !linux

package durable

import "os"

// StartWriteback fsyncs f: without syncfs(2), each file is made durable on
// its own before it is placed.
func StartWriteback(f *os.File) error { return f.Sync() }

// SyncFS makes dir's entries durable; the files themselves were synced by
// StartWriteback.
func SyncFS(dir string) error { return SyncDir(dir) }

// SyncFSOf syncs the open directory f.
func SyncFSOf(f *os.File) error { return f.Sync() }
