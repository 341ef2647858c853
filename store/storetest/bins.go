package storetest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hookyard/store"
)

var binCases = []testCase{
	{"CreateReadListDelete", testBins},
	{"KeepTheLast100", testBinLimit},
	{"Expire", testBinExpiry},
	{"QuotaPerOwner", testBinQuota},
	{"OneRequest", testBinRequest},
}

func testBins(t *testing.T, f *fixture) {
	mia := f.user("mia@example.com", "Mia", store.RoleMember)
	bob := f.user("bob@example.com", "Bob", store.RoleMember)
	b, err := f.s.CreateBin(f.ctx, mia.ID, 0)
	f.must(err, "CreateBin")
	want := store.Bin{ID: b.ID, OwnerID: mia.ID, CreatedAt: f.now(), ExpiresAt: f.now().Add(store.BinLifetime)}
	if !strings.HasPrefix(b.ID, "bin_") {
		t.Errorf("ID = %q, want bin_…", b.ID)
	}
	check(t, "CreateBin", b, want)
	got, err := f.s.Bin(f.ctx, b.ID)
	f.must(err, "Bin")
	check(t, "Bin", got, want)
	f.clock.Advance(time.Minute)
	b2, _ := f.s.CreateBin(f.ctx, mia.ID, 0)
	bobs, _ := f.s.CreateBin(f.ctx, bob.ID, 0)
	list, err := f.s.ListBins(f.ctx, mia.ID)
	f.must(err, "ListBins")
	check(t, "Mia's bins, newest first", list, []store.Bin{b2, b})
	list, _ = f.s.ListBins(f.ctx, bob.ID)
	check(t, "Bob's bins", ids(list, binID), []string{bobs.ID})

	f.clock.Advance(time.Second)
	h := http.Header{"Content-Type": {"application/json"}, "X-Many": {"2", "1"}}
	f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, h, false, []byte("\x00binary\xff")), "AddBinRequest")
	f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPut, nil, false, []byte{}), "AddBinRequest")
	f.must(f.s.AddBinRequest(f.ctx, b2.ID, http.MethodPost, nil, false, []byte("other bin")), "AddBinRequest")
	reqs, err := f.s.BinRequests(f.ctx, b.ID)
	f.must(err, "BinRequests")
	if len(reqs) != 2 {
		t.Fatalf("BinRequests = %+v, want 2", reqs)
	}
	if r := reqs[0]; r.Method != http.MethodPut || len(r.Body) != 0 || len(r.Headers) != 0 || r.BinID != b.ID {
		t.Errorf("newest request = %+v, want the empty PUT", r)
	}
	check(t, "oldest request", reqs[1], store.BinRequest{ID: reqs[1].ID, BinID: b.ID, ReceivedAt: f.now(),
		Method: http.MethodPost, Headers: h, Body: []byte("\x00binary\xff")})
	if reqs[0].ID <= reqs[1].ID {
		t.Errorf("request ids %d then %d: want newer requests to have larger ids", reqs[1].ID, reqs[0].ID)
	}
	checkErr(t, "AddBinRequest to an unknown bin", f.s.AddBinRequest(f.ctx, "bin_missing", "POST", nil, false, nil), store.ErrNotFound)

	f.must(f.s.DeleteBin(f.ctx, b.ID), "DeleteBin")
	_, err = f.s.Bin(f.ctx, b.ID)
	checkErr(t, "Bin after delete", err, store.ErrNotFound)
	reqs, _ = f.s.BinRequests(f.ctx, b.ID)
	check(t, "requests of a deleted bin", len(reqs), 0)
	reqs, _ = f.s.BinRequests(f.ctx, b2.ID)
	check(t, "requests of another bin", len(reqs), 1)
	checkErr(t, "DeleteBin twice", f.s.DeleteBin(f.ctx, b.ID), store.ErrNotFound)
}

// A person may have maxPerOwner live bins (0: no limit); expired bins and other people's do
// not count.
func testBinQuota(t *testing.T, f *fixture) {
	mia, bob := f.user("mia@example.com", "Mia", store.RoleMember), f.user("bob@example.com", "Bob", store.RoleMember)
	first, err := f.s.CreateBin(f.ctx, mia.ID, 2)
	f.must(err, "CreateBin")
	f.clock.Advance(time.Hour)
	_, err = f.s.CreateBin(f.ctx, mia.ID, 2)
	f.must(err, "CreateBin")
	_, err = f.s.CreateBin(f.ctx, mia.ID, 2)
	checkErr(t, "a third bin with a quota of 2", err, store.ErrQuotaReached)
	_, err = f.s.CreateBin(f.ctx, bob.ID, 2)
	checkErr(t, "another person's bin", err, nil)
	_, err = f.s.CreateBin(f.ctx, mia.ID, 3)
	checkErr(t, "a third bin with a quota of 3", err, nil)
	_, err = f.s.CreateBin(f.ctx, mia.ID, 0)
	checkErr(t, "a bin without a quota", err, nil)
	if list, _ := f.s.ListBins(f.ctx, mia.ID); len(list) != 4 {
		t.Errorf("Mia has %d bins, want 4", len(list))
	}
	// Once the first has expired it no longer counts.
	f.clock.Advance(store.BinLifetime - time.Hour)
	_, err = f.s.CreateBin(f.ctx, mia.ID, 4)
	checkErr(t, "a bin when one of four has expired", err, nil)
	_, err = f.s.Bin(f.ctx, first.ID)
	checkErr(t, "the expired bin", err, store.ErrNotFound)
	_, err = f.s.CreateBin(f.ctx, mia.ID, 4)
	checkErr(t, "a fifth live bin with a quota of 4", err, store.ErrQuotaReached)
}

func testBinRequest(t *testing.T, f *fixture) {
	u := f.user("mia@example.com", "Mia", store.RoleMember)
	b, err := f.s.CreateBin(f.ctx, u.ID, 0)
	f.must(err, "CreateBin")
	other, _ := f.s.CreateBin(f.ctx, u.ID, 0)
	h := http.Header{"X-Long": {strings.Repeat("x", 100)}}
	f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, h, true, []byte("cut")), "AddBinRequest")
	f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, nil, false, []byte("whole")), "AddBinRequest")
	reqs, _ := f.s.BinRequests(f.ctx, b.ID)
	if len(reqs) != 2 {
		t.Fatalf("BinRequests = %+v, want 2", reqs)
	}
	check(t, "the request whose headers were cut", reqs[1], store.BinRequest{ID: reqs[1].ID, BinID: b.ID, ReceivedAt: f.now(),
		Method: http.MethodPost, Headers: h, Body: []byte("cut"), HeadersTruncated: true})
	if reqs[0].HeadersTruncated {
		t.Error("a request with its headers whole is marked truncated")
	}
	for _, r := range reqs {
		got, err := f.s.BinRequest(f.ctx, b.ID, r.ID)
		f.must(err, "BinRequest")
		check(t, "BinRequest", got, r)
	}
	_, err = f.s.BinRequest(f.ctx, other.ID, reqs[0].ID)
	checkErr(t, "a request read through another bin", err, store.ErrNotFound)
	_, err = f.s.BinRequest(f.ctx, b.ID, reqs[0].ID+1000)
	checkErr(t, "an unknown request", err, store.ErrNotFound)
}

func testBinLimit(t *testing.T, f *fixture) {
	u := f.user("mia@example.com", "Mia", store.RoleMember)
	b, err := f.s.CreateBin(f.ctx, u.ID, 0)
	f.must(err, "CreateBin")
	other, _ := f.s.CreateBin(f.ctx, u.ID, 0)
	f.must(f.s.AddBinRequest(f.ctx, other.ID, http.MethodPost, nil, false, []byte("kept")), "AddBinRequest")
	for i := range store.BinLimit + 5 {
		h := http.Header{"X-N": {fmt.Sprint(i)}}
		f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, h, false, []byte(fmt.Sprint(i))), "AddBinRequest")
	}
	reqs, err := f.s.BinRequests(f.ctx, b.ID)
	f.must(err, "BinRequests")
	if len(reqs) != store.BinLimit || string(reqs[0].Body) != "104" || string(reqs[len(reqs)-1].Body) != "5" || reqs[0].Headers.Get("X-N") != "104" {
		t.Fatalf("kept %d requests, newest %q, oldest %q; want the last 100, newest first", len(reqs), reqs[0].Body, reqs[len(reqs)-1].Body)
	}
	if reqs, _ := f.s.BinRequests(f.ctx, other.ID); len(reqs) != 1 {
		t.Errorf("another bin keeps %d requests, want 1", len(reqs))
	}
}

func testBinExpiry(t *testing.T, f *fixture) {
	u := f.user("mia@example.com", "Mia", store.RoleMember)
	b, err := f.s.CreateBin(f.ctx, u.ID, 0)
	f.must(err, "CreateBin")
	f.must(f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, nil, false, []byte("early")), "AddBinRequest")
	f.clock.Advance(time.Hour)
	younger, _ := f.s.CreateBin(f.ctx, u.ID, 0)

	f.clock.Advance(store.BinLifetime - time.Hour - time.Millisecond)
	if _, err := f.s.Bin(f.ctx, b.ID); err != nil {
		t.Fatalf("a bin a millisecond before it expires: %v", err)
	}
	f.clock.Advance(time.Millisecond)
	_, err = f.s.Bin(f.ctx, b.ID)
	checkErr(t, "an expired bin", err, store.ErrNotFound)
	checkErr(t, "a request to an expired bin", f.s.AddBinRequest(f.ctx, b.ID, http.MethodPost, nil, false, []byte("late")), store.ErrNotFound)
	list, _ := f.s.ListBins(f.ctx, u.ID)
	check(t, "live bins", ids(list, binID), []string{younger.ID})
	if reqs, _ := f.s.BinRequests(f.ctx, b.ID); len(reqs) != 1 {
		t.Errorf("an expired bin's requests before a new bin is made: %d, want 1", len(reqs))
	}
	// Making a bin clears expired ones with what they received.
	_, err = f.s.CreateBin(f.ctx, u.ID, 0)
	f.must(err, "CreateBin")
	if reqs, _ := f.s.BinRequests(f.ctx, b.ID); len(reqs) != 0 {
		t.Errorf("%d requests of an expired bin remain after a new bin was made", len(reqs))
	}
	if _, err := f.s.Bin(f.ctx, younger.ID); err != nil {
		t.Errorf("a live bin was cleared: %v", err)
	}
}
