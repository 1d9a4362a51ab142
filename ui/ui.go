// Package ui is the terminal application: registries → repositories → tags
// → image detail, with background transfers, built on Bubble Tea v2. It
// talks to backends only through registry.Registry, and only from inside
// tea.Cmds; every style comes from the themes package.
package ui
