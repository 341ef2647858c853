package storetest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"hookyard/store"
)

var errorCases = []testCase{
	{"UnknownIDsAreNotFoundAndChangeNothing", testNotFound},
	{"TakenNamesAreConflicts", testConflicts},
}

func testNotFound(t *testing.T, f *fixture) {
	s := f.scene()
	tok, _, err := f.s.CreateToken(f.ctx, s.owner.ID, "ci")
	f.must(err, "CreateToken")
	bin, err := f.s.CreateBin(f.ctx, s.owner.ID, 0)
	f.must(err, "CreateBin")
	_, ds := f.publish(s.project, "TODO_CREATED", s.hook)

	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"UserByID", func(ctx context.Context) error { _, err := f.s.UserByID(ctx, "usr_missing"); return err }},
		{"UserByEmail", func(ctx context.Context) error { _, err := f.s.UserByEmail(ctx, "nobody@example.com"); return err }},
		{"UpdateUser", func(ctx context.Context) error {
			_, err := f.s.UpdateUser(ctx, "usr_missing", store.UserChanges{})
			return err
		}},
		{"DeleteUser", func(ctx context.Context) error { return f.s.DeleteUser(ctx, "usr_missing") }},
		{"CreateSession unknown user", func(ctx context.Context) error {
			_, err := f.s.CreateSession(ctx, "usr_missing", time.Hour)
			return err
		}},
		{"Session", func(ctx context.Context) error { _, err := f.s.Session(ctx, "nope"); return err }},
		{"CreateToken unknown user", func(ctx context.Context) error { _, _, err := f.s.CreateToken(ctx, "usr_missing", "x"); return err }},
		{"Token", func(ctx context.Context) error { _, err := f.s.Token(ctx, "tok_missing"); return err }},
		{"UserByToken", func(ctx context.Context) error {
			_, _, err := f.s.UserByToken(ctx, store.TokenPrefix+"nope")
			return err
		}},
		{"DeleteToken", func(ctx context.Context) error { return f.s.DeleteToken(ctx, "tok_missing") }},
		{"Organization", func(ctx context.Context) error { _, err := f.s.Organization(ctx, "org_missing"); return err }},
		{"RenameOrganization", func(ctx context.Context) error { _, err := f.s.RenameOrganization(ctx, "org_missing", "x"); return err }},
		{"DeleteOrganization", func(ctx context.Context) error { return f.s.DeleteOrganization(ctx, "org_missing") }},
		{"AddMember unknown organisation", func(ctx context.Context) error { return f.s.AddMember(ctx, "org_missing", s.owner.ID) }},
		{"AddMember unknown user", func(ctx context.Context) error { return f.s.AddMember(ctx, s.org.ID, "usr_missing") }},
		{"AddMember both unknown", func(ctx context.Context) error { return f.s.AddMember(ctx, "org_missing", "usr_missing") }},
		{"AddMember ids swapped", func(ctx context.Context) error { return f.s.AddMember(ctx, s.owner.ID, s.org.ID) }},
		{"RemoveMember not a member", func(ctx context.Context) error { return f.s.RemoveMember(ctx, s.org.ID, s.owner.ID) }},
		{"CreateProject unknown organisation", func(ctx context.Context) error { _, err := f.s.CreateProject(ctx, "org_missing", "x"); return err }},
		{"Project", func(ctx context.Context) error { _, err := f.s.Project(ctx, "prj_missing"); return err }},
		{"Project by organisation id", func(ctx context.Context) error { _, err := f.s.Project(ctx, s.org.ID); return err }},
		{"RenameProject", func(ctx context.Context) error { _, err := f.s.RenameProject(ctx, "prj_missing", "x"); return err }},
		{"DeleteProject", func(ctx context.Context) error { return f.s.DeleteProject(ctx, "prj_missing") }},
		{"EventType", func(ctx context.Context) error { _, err := f.s.EventType(ctx, "NO_SUCH_EVENT"); return err }},
		{"Webhook", func(ctx context.Context) error { _, err := f.s.Webhook(ctx, "wh_missing"); return err }},
		{"UpdateWebhook", func(ctx context.Context) error {
			_, err := f.s.UpdateWebhook(ctx, "wh_missing", store.WebhookChanges{Events: &[]string{"TODO_CREATED"}})
			return err
		}},
		{"DeleteWebhook", func(ctx context.Context) error { return f.s.DeleteWebhook(ctx, "wh_missing") }},
		{"DisableWebhook", func(ctx context.Context) error {
			_, err := f.s.DisableWebhook(ctx, "wh_missing", store.StatusHealthy, "x")
			return err
		}},
		{"EnableWebhook", func(ctx context.Context) error { _, err := f.s.EnableWebhook(ctx, "wh_missing"); return err }},
		{"RotateSecret", func(ctx context.Context) error {
			_, err := f.s.RotateSecret(ctx, "wh_missing", "x", time.Hour)
			return err
		}},
		{"Event", func(ctx context.Context) error { _, err := f.s.Event(ctx, "evt_missing"); return err }},
		{"Event by delivery id", func(ctx context.Context) error { _, err := f.s.Event(ctx, ds[0].ID); return err }},
		{"Delivery", func(ctx context.Context) error { _, err := f.s.Delivery(ctx, "dlv_missing"); return err }},
		{"IdempotentResponse", func(ctx context.Context) error {
			_, err := f.s.IdempotentResponse(ctx, s.owner.ID, "k", "", time.Time{})
			return err
		}},
		{"Bin", func(ctx context.Context) error { _, err := f.s.Bin(ctx, "bin_missing"); return err }},
		{"DeleteBin", func(ctx context.Context) error { return f.s.DeleteBin(ctx, "bin_missing") }},
		{"AddBinRequest", func(ctx context.Context) error {
			return f.s.AddBinRequest(ctx, "bin_missing", http.MethodPost, nil, false, []byte("x"))
		}},
		{"MarkNotificationRead", func(ctx context.Context) error { return f.s.MarkNotificationRead(ctx, s.owner.ID, "ntf_missing") }},
	} {
		checkErr(t, tc.name, tc.call(f.ctx), store.ErrNotFound)
	}

	// None of the refused calls changed anything.
	users, _, _ := f.s.ListUsers(f.ctx, store.Page{})
	check(t, "users", users, []store.User{s.owner})
	orgs, _, _ := f.s.ListOrganizations(f.ctx, "", store.Page{})
	check(t, "organisations", orgs, []store.Organization{s.org})
	projects, _, _ := f.s.ListProjects(f.ctx, store.ProjectFilter{}, store.Page{})
	check(t, "projects", projects, []store.Project{s.project})
	byUser, _ := f.s.MemberOrganizations(f.ctx)
	check(t, "memberships", byUser, map[string][]string{})
	tokens, _, _ := f.s.ListTokens(f.ctx, "", store.Page{})
	check(t, "tokens", ids(tokens, func(t store.APIToken) string { return t.ID }), []string{tok.ID})
	hooks, _, _ := f.s.ListWebhooks(f.ctx, store.WebhookFilter{}, store.Page{})
	check(t, "webhooks", hooks, []store.Webhook{s.hook})
	check(t, "delivery", f.delivery(ds[0].ID), ds[0])
	bins, _ := f.s.ListBins(f.ctx, s.owner.ID)
	check(t, "bins", bins, []store.Bin{bin})
}

func testConflicts(t *testing.T, f *fixture) {
	s := f.scene()
	other := f.user("other@example.com", "Other", store.RoleMember)
	_, err := f.s.CreateEventType(f.ctx, store.EventType{Name: "INVOICE_PAID", Label: "Invoice paid"})
	f.must(err, "CreateEventType")
	f.must(f.s.Publish(f.ctx, store.Publication{Events: []store.Event{f.newEvent(s.project, "TODO_CREATED")},
		IdempotencyUserID: s.owner.ID, IdempotencyKey: "k", Response: []byte("first")}), "Publish")

	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"CreateUser with a taken e-mail", func(ctx context.Context) error {
			return f.s.CreateUser(ctx, &store.User{Email: "OWNER@example.com", Name: "x", Role: store.RoleMember, PasswordHash: "x"})
		}},
		{"UpdateUser to a taken e-mail", func(ctx context.Context) error {
			_, err := f.s.UpdateUser(ctx, other.ID, store.UserChanges{Email: ptr("owner@EXAMPLE.com")})
			return err
		}},
		{"CreateEventType built-in name", func(ctx context.Context) error {
			_, err := f.s.CreateEventType(ctx, store.EventType{Name: "TODO_CREATED", Label: "x"})
			return err
		}},
		{"CreateEventType custom name", func(ctx context.Context) error {
			_, err := f.s.CreateEventType(ctx, store.EventType{Name: "INVOICE_PAID", Label: "x"})
			return err
		}},
		{"Publish with a live idempotency key", func(ctx context.Context) error {
			return f.s.Publish(ctx, store.Publication{Events: []store.Event{f.newEvent(s.project, "TODO_CREATED")},
				IdempotencyUserID: s.owner.ID, IdempotencyKey: "k", Response: []byte("second")})
		}},
	} {
		checkErr(t, tc.name, tc.call(f.ctx), store.ErrConflict)
	}
	if u, _ := f.s.UserByID(f.ctx, other.ID); u != other {
		t.Errorf("a refused update changed the user: %+v", u)
	}
	if n, _ := f.s.CountUsers(f.ctx); n != 2 {
		t.Errorf("%d users, want 2", n)
	}
	if et, _ := f.s.EventType(f.ctx, "INVOICE_PAID"); et.Label != "Invoice paid" {
		t.Errorf("a refused event type changed the first: %+v", et)
	}
}
