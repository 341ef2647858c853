package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored in testdata (see its README).
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/axe-core/axe.min.js")
	return string(b), err
})

// TestBrowserEveryPageAccessible runs axe-core (WCAG 2.2 A and AA rules, and heading order) on
// every page of the tour, at desktop and phone width: no serious or critical violation, and no
// skipped heading level, may be found.
func TestBrowserEveryPageAccessible(t *testing.T) {
	ctx := newTabWithin(t, tourTimeout)
	srv := startServer(t, tourServerFlags...)
	pages := 0
	tour(t, ctx, srv, func(name string) {
		t.Helper()
		pages++
		for _, v := range axeViolations(t, ctx) {
			t.Errorf("%s at 1280 px: %s", name, v)
		}
		atPhoneWidth(t, ctx, func() {
			for _, v := range axeViolations(t, ctx) {
				t.Errorf("%s at 375 px: %s", name, v)
			}
		})
	})
	if pages < 20 {
		t.Errorf("the tour visited %d pages, want every main page", pages)
	}
}

// axeViolations runs axe-core on the page and describes its serious and critical findings.
func axeViolations(t *testing.T, ctx context.Context) []string {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	// Injected through DevTools, which the page's Content-Security-Policy does not govern.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined" || (() => { `+src+`; return true })()`)); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	type node struct {
		Target []string `json:"target"`
		HTML   string   `json:"html"`
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []node
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]},
		// Skipped heading levels too (a best practice, "moderate" to axe): people find their
		// way around a page by its headings.
		rules: {"heading-order": {enabled: true}},
		resultTypes: ["violations"],
	}).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical" || v.id === "heading-order")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => ({target: n.target, html: n.html.slice(0, 120)}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var out []string
	for _, v := range found {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, strings.Join(n.Target, " ")+" "+n.HTML)
		}
		out = append(out, fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(where, " | ")))
	}
	return out
}
