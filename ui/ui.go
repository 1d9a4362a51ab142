// Package ui is the terminal application: registries → repositories → tags
// → image detail, with background transfers, built on Bubble Tea v2. It
// talks to backends only through registry.Registry and the registry
// package's optional capabilities (credentials, the blob walk), and only
// from inside tea.Cmds; every style comes from the themes package.
//
// Structure, for adding to it:
//   - screen (screen.go) is the one contract of a page: its bindings, hint,
//     filter state and go-to prefill. App never looks at concrete screens.
//     screenBase gives the defaults; listBase (list.go) is the list screens'
//     base: table, filter, sorts (sortOption), marks, paging to the real
//     end and the navigation bindings.
//   - binding (binding.go) declares a key once: dispatch, the footer and the
//     help page come from the same list; unless() disables one with a
//     reason (read-only mode) that help shows. Every key is in KeyMap.
//   - overlay (overlay.go) is what sits over the screens: pages (transfers,
//     messages, help, a job) and dialogs (dialog.go: confirm, input, pick,
//     wait). shared.open and shared.push take effect before the next key is
//     read, so type-ahead reaches what a key opened.
//   - actions.go holds the image actions (pull, verify, copy, clipboard) on
//     a selection of images; verdict.go the one rule of what a verdict
//     allows (transferGate). A job is a jobSpec started with start().
//   - The detail screen's panes are a list (detailScreen.panes): a new view
//     of an image is one more pane. What an image holds is read through
//     registry.Content (inside.go: one tea.Cmd per pane, on demand,
//     cancelled with the screen) and drawn by panes.go and files.go;
//     find.go is the search inside a pane or a diff; forktree.go the
//     lineage pane and the fork-tree screen (trees cached per root);
//     diffview.go the diff of two images; cost.go the pull cost (walks
//     cached per image ID, counted again when the store changes).
package ui
