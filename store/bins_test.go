package store

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestBinsKeepTheLast100AndExpire(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	clock := useClock(s, 0)
	ctx := t.Context()
	u := createUser(t, s, "mia@example.com", "Mia", RoleMember)
	b, err := s.CreateBin(ctx, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range BinLimit + 5 {
		if err := s.AddBinRequest(ctx, b.ID, http.MethodPost, http.Header{"X-N": {fmt.Sprint(i)}}, false, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	reqs, err := s.BinRequests(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != BinLimit || string(reqs[0].Body) != "104" || string(reqs[len(reqs)-1].Body) != "5" || reqs[0].Headers.Get("X-N") != "104" {
		t.Fatalf("kept %d requests, newest %q, oldest %q", len(reqs), reqs[0].Body, reqs[len(reqs)-1].Body)
	}
	clock.Advance(BinLifetime + time.Second)
	if _, err := s.Bin(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired bin is still found: %v", err)
	}
	if err := s.AddBinRequest(ctx, b.ID, http.MethodPost, nil, false, []byte("late")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired bin accepted a request: %v", err)
	}
	if bins, _ := s.ListBins(ctx, u.ID); len(bins) != 0 {
		t.Fatalf("expired bins listed: %v", bins)
	}
	// Creating a bin clears expired ones with what they received.
	if _, err := s.CreateBin(ctx, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "bin_requests", ""); n != 0 {
		t.Fatalf("%d requests of expired bins remain", n)
	}
}
