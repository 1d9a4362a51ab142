// Package durable makes staged files durable in groups. A writer stages a
// complete file under a temporary name, and the file is renamed to where
// readers look only once its bytes are on disk; one file system sync
// covers every file staged meanwhile, instead of one fsync (and one
// journal commit) per file.
//
// The guarantee, on Linux: a file is renamed into place only after a
// syncfs that began after the file was complete, so a power loss or an
// OS crash never leaves a torn or empty file at a final name; the rename
// itself becomes durable with the next SyncFS, so after a power
// loss a file may still be only in staging, never partial in place. A
// killed process leaves complete files in place and its staging files
// behind, for the owner's cleanup. Elsewhere each file is fsynced before
// its rename, file by file.
package durable

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Batch renames staged files into place once a sync has made their bytes
// durable. Files added while a sync runs, or within SyncGap of its start,
// wait for the next one: a group commit, which the disk paces. Safe for
// concurrent use; its goroutine runs only while files wait.
type Batch struct {
	dir   string        // any directory on the file system being written
	hurry chan struct{} // Wait asks for the next sync without the gap

	mu      sync.Mutex
	idle    *sync.Cond
	pending []staged
	running bool
	err     error // the first failure: every later Add and Wait returns it
}

type staged struct {
	place   func() error // renames the file into place
	discard func()       // removes the staged file
}

// NewBatch syncs the file system that holds dir.
func NewBatch(dir string) *Batch {
	b := &Batch{dir: dir, hurry: make(chan struct{}, 1)}
	b.idle = sync.NewCond(&b.mu)
	return b
}

// Add hands over a staged file whose bytes are all written: its writeback
// starts now, it is closed, and place runs after the next sync. discard
// removes it when it cannot be placed. An error from an earlier file
// (a failed sync or rename) is returned, and f is discarded.
func (b *Batch) Add(f *os.File, place func() error, discard func()) error {
	err := StartWriteback(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		discard()
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		discard()
		return b.err
	}
	b.pending = append(b.pending, staged{place, discard})
	if !b.running {
		b.running = true
		go b.flush()
	}
	return nil
}

// SyncGap is the least time between the starts of two syncs of a batch:
// each sync waits for the disk's cache to be flushed, which costs the
// same for one file as for many, so files arriving meanwhile join the
// next one (a blob of a pull becomes safe within about SyncGap plus one
// sync).
const SyncGap = 50 * time.Millisecond

// flush syncs and places pending files until none wait.
func (b *Batch) flush() {
	var last time.Time
	for {
		if wait := SyncGap - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-b.hurry:
				t.Stop()
			}
		}
		last = time.Now()
		b.mu.Lock()
		group := b.pending
		b.pending = nil
		if len(group) == 0 {
			b.running = false
			b.idle.Broadcast()
			b.mu.Unlock()
			return
		}
		failed := b.err
		b.mu.Unlock()
		if failed == nil {
			failed = SyncFS(b.dir)
		}
		for _, s := range group {
			if failed == nil {
				failed = s.place()
			}
			if failed != nil {
				s.discard()
			}
		}
		if failed != nil {
			b.mu.Lock()
			if b.err == nil {
				b.err = failed
			}
			b.mu.Unlock()
		}
	}
}

// Wait returns once every file added so far is placed (or discarded), with
// the first failure.
func (b *Batch) Wait() error {
	select {
	case b.hurry <- struct{}{}:
	default:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.running {
		b.idle.Wait()
	}
	return b.err
}

// SyncDir makes the entries of dir (a rename into it, a removal from it)
// durable.
func SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// WriteFile replaces path with data the way a reader never sees a part: a
// temporary file beside it, synced, then renamed over it, and the directory
// synced. perm applies to the new file.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return SyncDir(dir)
}
