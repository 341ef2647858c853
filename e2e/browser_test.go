package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSetupLoginOrganizationProject walks the first visit of an admin: create the
// account from the setup link, sign out and in again, add an organisation and a project,
// and find both in the list. Every step waits for what a person would see next; with
// hx-boost most steps swap the body in place rather than load a page.
func TestBrowserSetupLoginOrganizationProject(t *testing.T) {
	ctx := newTab(t) // first: skips before starting anything when Chromium is missing
	srv := startServer(t)

	const (
		name     = "Grace Admin"
		email    = "grace@example.com"
		password = "correct horse battery"
		org      = "Umbrella Corp"
		project  = "Website"
	)

	// Setup: the link printed at start opens the first-admin form.
	do(t, ctx, "open the setup link",
		chromedp.Navigate(srv.setupURL),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(button("Create admin account")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="whoami"]`)),
	)
	wantPath(t, ctx, "/")
	if got := text(t, ctx, `[data-testid="whoami"]`); !strings.HasPrefix(got, name) || !strings.Contains(got, "Admin") {
		t.Errorf("after setup, whoami reads %q, want %s marked Admin", got, name)
	}
	if got := text(t, ctx, `[data-testid="flash"]`); !strings.Contains(got, "admin account is ready") {
		t.Errorf("after setup, flash reads %q", got)
	}

	// Sign out, then sign in with the same credentials.
	do(t, ctx, "sign out",
		chromedp.Click(button("Sign out")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] #email`)),
	)
	wantPath(t, ctx, "/login")
	if present(t, ctx, `[data-testid="whoami"]`) {
		t.Errorf("after signing out the page still shows who is signed in")
	}
	do(t, ctx, "sign in",
		chromedp.SendKeys(inputLabelled("E-mail"), email),
		chromedp.SendKeys(inputLabelled("Password"), password),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="whoami"]`)),
	)
	wantPath(t, ctx, "/")
	if got := text(t, ctx, "h1"); got != "Dashboard" {
		t.Errorf("after signing in the page heading is %q, want Dashboard", got)
	}

	// Organisations through the navigation, then add one.
	do(t, ctx, "open Organisations from the navigation",
		chromedp.Click(chromedp.Search(`//nav[@aria-label="Main"]//a[normalize-space()="Organisations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/organizations"]`)),
	)
	wantPath(t, ctx, "/organizations")
	do(t, ctx, "add an organisation",
		chromedp.SendKeys(inputLabelled("Organisation name"), org),
		chromedp.Click(button("Add organisation")),
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//h1[@data-testid="org-name"][normalize-space()=%s]`, xpathString(org)))),
	)
	if !strings.HasPrefix(strings.TrimPrefix(location(ctx), srv.base), "/organizations/") {
		t.Errorf("after adding an organisation the address bar shows %s, want its page", location(ctx))
	}
	if got := text(t, ctx, `[data-testid="empty-projects"]`); !strings.Contains(got, "No projects yet") {
		t.Errorf("a new organisation's projects read %q", got)
	}

	// Add a project on the organisation page.
	projectRow := fmt.Sprintf(`//ul[@data-testid="projects"]/li//input[@value=%s]`, xpathString(project))
	do(t, ctx, "add a project",
		chromedp.SendKeys(inputLabelled("Project name"), project),
		chromedp.Click(button("Add project")),
		chromedp.WaitVisible(chromedp.Search(projectRow)),
	)
	if got := text(t, ctx, `[data-testid="flash"]`); got != "Project "+project+" was added." {
		t.Errorf("after adding a project the flash reads %q", got)
	}
	if got := text(t, ctx, `[data-testid="org-name"]`); got != org {
		t.Errorf("after adding a project the heading reads %q, want %q", got, org)
	}

	// A fresh load of the list shows the organisation with its project, next to the demo data.
	do(t, ctx, "load the organisation list",
		chromedp.Navigate(srv.base+"/organizations"),
		chromedp.WaitVisible(chromedp.CSS(`table[data-testid="organizations"]`)),
	)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`
		[...document.querySelectorAll('table[data-testid="organizations"] tbody tr')].map(tr =>
			[tr.querySelector('td[data-label="Organisation"]').innerText.trim(),
			 [...tr.querySelectorAll('[data-testid="project-name"]')].map(s => s.innerText.trim()).join("|")])`))
	if err != nil {
		t.Fatalf("read the organisation table: %v", err)
	}
	projects := map[string]string{}
	for _, r := range rows {
		projects[r[0]] = r[1]
	}
	if got, ok := projects[org]; !ok || got != project {
		t.Errorf("organisation table rows %q: want %s with project %s", rows, org, project)
	}
	if _, ok := projects["Acme"]; !ok {
		t.Errorf("organisation table rows %q: want the demo organisation Acme", rows)
	}
}
