package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserEveryPageAtPhoneWidth walks the tour at 375 px, a small phone, and checks on every
// page what a phone user meets: nothing makes the page scroll sideways, and event type names
// (TODO_CHECKLIST_ITEM_CREATED) wrap only between their words.
func TestBrowserEveryPageAtPhoneWidth(t *testing.T) {
	ctx := newTabWithin(t, tourTimeout)
	srv := startServer(t, tourServerFlags...)
	pages := 0
	tour(t, ctx, srv, func(name string) {
		t.Helper()
		pages++
		atPhoneWidth(t, ctx, func() {
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
				// A phone shows a page wider than itself zoomed out, which widens innerWidth too: compare
				// with the phone's own width.
				const phone = Math.min(innerWidth, screen.width);
				if (document.documentElement.scrollWidth <= phone) return [];
				const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) { if (getComputedStyle(p).overflowX !== "visible") return true; } return false; };
				const out = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > phone + 0.5 && e.checkVisibility() && !clipped(e));
				// The innermost culprits say most; text that overflows its box is one too.
				const say = (e, right) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " “" + e.textContent.trim().slice(0, 40) + "” ends at " + Math.round(right);
				const culprits = out.filter(e => !out.some(o => o !== e && e.contains(o))).map(e => say(e, e.getBoundingClientRect().right));
				const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), r = document.createRange();
				while (walk.nextNode()) {
					const n = walk.currentNode;
					r.selectNodeContents(n);
					const right = r.getBoundingClientRect().right;
					if (right > phone + 0.5 && !clipped(n.parentElement) && n.parentElement.checkVisibility()) culprits.push("text in " + say(n.parentElement, right));
				}
				return [document.documentElement.scrollWidth + " px wide"].concat(culprits.slice(0, 8));
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(wide) > 0 {
				t.Errorf("%s scrolls sideways at 375 px: %q", name, wide)
			}
			broken, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('code, td, li, span, strong')].filter(el =>
				el.checkVisibility() && [...el.children].every(c => c.tagName === "WBR") && /^[A-Z][A-Z0-9_]{2,63}$/.test(el.textContent.trim()) &&
				el.textContent.includes("_")).filter(el => {
				// A line may end only after an underscore.
				const r = document.createRange(), walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
				let top = null, prev = "";
				while (walk.nextNode()) {
					const text = walk.currentNode;
					for (let i = 0; i < text.length; i++) {
						r.setStart(text, i); r.setEnd(text, i + 1);
						const rect = r.getClientRects()[0];
						if (!rect || text.data[i].trim() === "") continue;
						if (top !== null && rect.top > top + 1 && prev !== "_") return true;
						top = rect.top; prev = text.data[i];
					}
				}
				return false;
			}).map(el => el.textContent.trim()).slice(0, 5)`))
			if err != nil {
				t.Fatal(err)
			}
			if len(broken) > 0 {
				t.Errorf("%s breaks event type names mid-word at 375 px: %q", name, broken)
			}
			out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
				const clipped = (e, top) => { for (let p = e.parentElement; p && p !== top; p = p.parentElement) { if (getComputedStyle(p).overflowX !== "visible") return true; } return false; };
				const out = [];
				for (const card of document.querySelectorAll('.panel')) {
					if (!card.checkVisibility()) continue;
					const edge = card.getBoundingClientRect().right + 0.5;
					for (const e of card.querySelectorAll('*')) {
						if (e.getBoundingClientRect().right > edge && e.checkVisibility() && !clipped(e, card)) {
							out.push(e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " “" + e.textContent.trim().slice(0, 30) + "”");
						}
					}
				}
				return out.slice(0, 5);
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) > 0 {
				t.Errorf("%s has boxes sticking out of their card at 375 px: %q", name, out)
			}
			if name == "dashboard" {
				phoneMenu(t, ctx)
			}
		})
	})
	if pages < 20 {
		t.Errorf("the tour visited %d pages, want every main page", pages)
	}
}

// phoneMenu checks the top navigation on a phone: folded behind a Menu button, which opens
// it with every link on screen, not in a strip cut at the edge.
func phoneMenu(t *testing.T, ctx context.Context) {
	t.Helper()
	inspector := chromedp.Search(`//nav[@aria-label="Main"]//a[normalize-space()="Inspector"]`)
	if !visible(t, ctx, `[data-menu-button]`) {
		t.Errorf("at 375 px there is no Menu button")
		return
	}
	if visible(t, ctx, `nav[aria-label="Main"]`) {
		t.Errorf("at 375 px the navigation is on screen before Menu is pressed")
	}
	do(t, ctx, "open the menu", chromedp.Click(button("Menu")), chromedp.WaitVisible(inspector))
	cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('nav[aria-label="Main"] a, .who a, .who button')]
		.filter(a => !a.checkVisibility() || a.getBoundingClientRect().right > Math.min(innerWidth, screen.width) + 0.5).map(a => a.innerText.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) > 0 {
		t.Errorf("with the menu open, these are cut off or hidden at 375 px: %q", cut)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-menu-button]').getAttribute('aria-expanded')`)); err != nil || got != "true" {
		t.Errorf("the open menu's button says aria-expanded=%q", got)
	}
	do(t, ctx, "close the menu", chromedp.Click(button("Menu")), chromedp.WaitNotVisible(inspector))
}
