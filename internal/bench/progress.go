package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress writes one status line, rewritten in place with \r, while a
// measurement runs. A nil writer shows nothing.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	width int
}

// show replaces the status line with text.
func (p *progress) show(text string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pad := ""
	if n := p.width - len(text); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+text+pad)
	p.width = len(text)
}

// clear removes the status line.
func (p *progress) clear() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
		p.width = 0
	}
}

// track shows label with done (out of total, if total > 0) and the rate
// since the call, four times a second, until the returned function is
// called.
func (p *progress) track(label, unit string, total int64, done *atomic.Int64) (stop func()) {
	if p == nil || p.w == nil {
		return func() {}
	}
	start := time.Now()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			n := done.Load()
			el := time.Since(start).Seconds()
			text := label + "  " + formatCount(float64(n))
			if total > 0 {
				text += "/" + formatCount(float64(total))
			}
			if el > 0 {
				text += fmt.Sprintf("  %s %s  %.1fs", formatCount(float64(n)/el), unit, el)
			}
			p.show(text)
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
	}
}

// formatCount formats n with thousands separators (no decimals at or above
// 100, one below, two below 10).
func formatCount(n float64) string {
	switch {
	case n < 10 && n != float64(int64(n)):
		return fmt.Sprintf("%.2f", n)
	case n < 100 && n != float64(int64(n)):
		return fmt.Sprintf("%.1f", n)
	}
	s := fmt.Sprintf("%.0f", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
