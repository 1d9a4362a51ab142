package benchsuite

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"sort"

	"golang.org/x/image/font"
	"golang.org/x/image/font/inconsolata"
	"golang.org/x/image/math/fixed"
)

// Chart colours: bars where pf-registry is at least as fast as the best
// peer, bars where it is slower, and the grid.
var (
	chartBG    = color.RGBA{0xff, 0xff, 0xff, 0xff}
	chartAhead = color.RGBA{0x2e, 0x8b, 0x57, 0xff}
	chartBehnd = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	chartGrid  = color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
	chartInk   = color.RGBA{0x22, 0x22, 0x22, 0xff}
)

// WriteChart draws one horizontal bar per backend and operation: our time
// over the best peer's, with the parity line at 1.
func WriteChart(w io.Writer, rows []Row, title string) error {
	var bars []Row
	for _, r := range rows {
		if r.Ratio > 0 {
			bars = append(bars, r)
		}
	}
	const left, right, top, rowH, width = 130, 70, 50, 22, 900
	height := top + rowH*len(bars) + 40
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), &image.Uniform{chartBG}, image.Point{}, draw.Src)
	maxR := 2.0
	for _, b := range bars {
		maxR = math.Max(maxR, b.Ratio)
	}
	maxR = math.Min(math.Ceil(maxR*2)/2, 6)
	x := func(r float64) int { return left + int(math.Min(r, maxR)/maxR*float64(width-left-right)) }
	text(img, 10, 20, title)
	// Grid every 0.5, labelled below the bars.
	for g := 0.0; g <= maxR+1e-9; g += 0.5 {
		c := chartGrid
		if g == 1 {
			c = chartInk
		}
		fill(img, image.Rect(x(g), top-6, x(g)+1, top+rowH*len(bars)), c)
		text(img, x(g)-8, top+rowH*len(bars)+18, fmt.Sprintf("%.1f", g))
	}
	for i, b := range bars {
		y := top + i*rowH
		c := chartAhead
		if b.Ratio > 1 {
			c = chartBehnd
		}
		fill(img, image.Rect(x(0), y+3, max(x(b.Ratio), x(0)+1), y+rowH-3), c)
		text(img, 8, y+16, fmt.Sprintf("%-5s %s", b.Backend, b.Op))
		text(img, x(b.Ratio)+6, y+16, fmt.Sprintf("%.2f", b.Ratio))
	}
	text(img, left, height-6, "time ratio pf-registry / best peer (left of 1: pf-registry is faster)")
	return png.Encode(w, img)
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{chartInk}, Face: inconsolata.Regular8x16, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func sortStrings(s []string) { sort.Strings(s) }
