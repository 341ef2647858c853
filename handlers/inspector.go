package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"hookyard/delivery"
	"hookyard/store"
	"hookyard/views"
)

// The built-in request inspector: bins on this server that keep what is POSTed to them and
// check the signatures of Hookyard's own requests.

// binURL is where a bin receives requests.
func (s *Server) binURL(id string) string {
	return strings.TrimSuffix(s.opts.BaseURL.String(), "/") + "/inspect/" + id
}

// inspectPrefix is the URL prefix of this server's bins, for Client.ServeLocally.
func inspectPrefix(base string) string { return strings.TrimSuffix(base, "/") + "/inspect/" }

func (s *Server) binFor(ctx context.Context, u *store.User, id string) (store.Bin, error) {
	b, err := s.store.Bin(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && b.OwnerID != u.ID && !u.IsAdmin()) {
		return store.Bin{}, errNotFound("bin")
	}
	return b, err
}

func (s *Server) listBins(c echo.Context) error { return s.inspectorPage(c, http.StatusOK, "") }

// inspectorPage lists the viewer's bins; refused says why a bin was not made.
func (s *Server) inspectorPage(c echo.Context, status int, refused string) error {
	bins, err := s.store.ListBins(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	urls, byURL := map[string]string{}, make([]string, len(bins))
	for i, b := range bins {
		urls[b.ID], byURL[i] = s.binURL(b.ID), s.binURL(b.ID)
	}
	calling, err := s.store.WebhooksCalling(c.Request().Context(), currentUser(c).ID, byURL)
	if err != nil {
		return err
	}
	d := views.InspectorPage{Page: s.page(c, "Request inspector", "inspector"), Bins: bins, BinURLs: urls, Webhooks: map[string][]store.WebhookName{}}
	for _, b := range bins {
		d.Webhooks[b.ID] = calling[urls[b.ID]]
	}
	if refused != "" {
		d.Flash = views.Flash{Kind: "bad", Text: refused}
	}
	return s.render(c, status, views.Inspector(d))
}

// newBin makes a bin for the viewer, or shows the inspector page saying why it cannot.
func (s *Server) newBin(c echo.Context, then func(store.Bin) error) error {
	b, err := s.store.CreateBin(c.Request().Context(), currentUser(c).ID, s.opts.MaxBinsPerUser)
	if errors.Is(err, store.ErrQuotaReached) {
		return s.inspectorPage(c, http.StatusTooManyRequests, s.binQuotaText())
	}
	if err != nil {
		return err
	}
	return then(b)
}

func (s *Server) createBin(c echo.Context) error {
	return s.newBin(c, func(b store.Bin) error {
		return s.redirectWithFlash(c, "/inspector/"+b.ID, "Test URL created. Use it as a webhook's URL, then send a test.")
	})
}

// firstWebhook makes a bin and opens the builder with its URL, so a first webhook can be
// tried without a server of one's own.
func (s *Server) firstWebhook(c echo.Context) error {
	return s.newBin(c, func(b store.Bin) error {
		return c.Redirect(http.StatusSeeOther, "/webhooks/new?name=My+first+webhook&url="+url.QueryEscape(s.binURL(b.ID)))
	})
}

func (s *Server) deleteBin(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.binFor(ctx, currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.store.DeleteBin(ctx, b.ID); err != nil {
		return notFoundAs(err, "bin")
	}
	return s.redirectWithFlash(c, "/inspector", "Test URL deleted.")
}

func (s *Server) binPage(c echo.Context) (views.BinPage, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	b, err := s.binFor(ctx, u, c.Param("id"))
	if err != nil {
		return views.BinPage{}, err
	}
	reqs, err := s.store.BinRequests(ctx, b.ID)
	if err != nil {
		return views.BinPage{}, err
	}
	_, types, err := s.subscribableTypes(ctx)
	if err != nil {
		return views.BinPage{}, err
	}
	d := views.BinPage{Page: s.page(c, "Test URL", "inspector"), Bin: b, URL: s.binURL(b.ID)}
	calling, err := s.store.WebhooksCalling(ctx, b.OwnerID, []string{d.URL})
	if err != nil {
		return views.BinPage{}, err
	}
	d.Webhooks = calling[d.URL]
	d.Page.Title = views.BinTitle(d.Webhooks)
	left := maxBinPageText
	for _, r := range reqs {
		ir := s.inspect(ctx, u, r, types, min(views.MaxShownBytes, left))
		left -= len(ir.Body.Text)
		d.Requests = append(d.Requests, ir)
	}
	return d, nil
}

func (s *Server) showBin(c echo.Context) error {
	d, err := s.binPage(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Bin(d))
}

func (s *Server) showBinRequests(c echo.Context) error {
	d, err := s.binPage(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.BinRequests(d))
}

// maxBinPageText is the most body text a bin's page shows in all: it reloads every 2 s while
// open, and a bin keeps up to store.BinLimit requests.
const maxBinPageText = 1 << 20

// maxBinBody is the largest request body a bin keeps (SPEC §5); a larger one is refused whole.
const maxBinBody = 64 << 10

// binReceiver is the bins' public URL, /inspect/{id}: anyone may send to it, like a real
// receiver. It is a plain http.Handler so that this server's own deliveries can reach it
// in-process (Client.ServeLocally) without reaching any other route.
type binReceiver struct{ store *store.Store }

func (b binReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = jsonEncode(w, v)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(http.StatusMethodNotAllowed, map[string]string{"error": "bins accept POST requests, as webhooks send"})
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/inspect/")
	if !ok || id == "" || strings.ContainsAny(id, "/.") {
		answer(http.StatusNotFound, map[string]string{"error": "no such bin"})
		return
	}
	// Read at most one byte past the cap, whatever Content-Length says.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBinBody+1))
	if err != nil {
		answer(http.StatusBadRequest, map[string]string{"error": "could not read the body"})
		return
	}
	if len(body) > maxBinBody {
		// Closing the connection spares reading the rest, which net/http would otherwise drain.
		w.Header().Set("Connection", "close")
		answer(http.StatusRequestEntityTooLarge, map[string]string{"error": "the body is larger than 64 KiB, the most a bin keeps; nothing was stored"})
		return
	}
	// A browser sent here carries this site's cookies; a bin must never show them (or any
	// credential) to its owner.
	h := r.Header.Clone()
	for _, k := range []string{"Cookie", "Authorization", "Proxy-Authorization"} {
		h.Del(k)
	}
	h, headersCut := delivery.CapHeaders(h, delivery.MaxStoredHeaders)
	err = b.store.AddBinRequest(r.Context(), id, r.Method, h, headersCut, body)
	switch {
	case errors.Is(err, store.ErrNotFound):
		answer(http.StatusNotFound, map[string]string{"error": "no such bin, or it has expired"})
	case err != nil:
		answer(http.StatusInternalServerError, map[string]string{"error": "could not keep the request"})
	default:
		answer(http.StatusOK, map[string]bool{"received": true})
	}
}

// inspect prepares one received request, its body shown in at most bodyLimit bytes, checking
// its signatures against the webhook named in the payload when the viewer may see that webhook.
func (s *Server) inspect(ctx context.Context, viewer *store.User, r store.BinRequest, types map[string]store.EventType, bodyLimit int) views.InspectedRequest {
	out := views.InspectedRequest{Request: r, Headers: views.ShowHeaders(r.Headers, binRequestPartURL(r, "headers")),
		Body: views.ShowJSON(r.Body, bodyLimit, binRequestPartURL(r, "body"))}
	var p delivery.Payload
	if json.Unmarshal(r.Body, &p) != nil || p.Webhook.ID == "" {
		out.Signatures = []views.SignatureCheck{{Header: "signatures", State: "unknown", Words: "Not a Hookyard delivery: the body names no webhook."}}
		return out
	}
	out.Event = typeLabel(types, p.Event)
	if p.Webhook.ID == unsavedWebhookID {
		out.Signatures = []views.SignatureCheck{{Header: "signatures", State: "unknown",
			Words: "A “Send test” from the webhook builder, before the webhook was saved: it was signed with a temporary secret, so there is nothing to check it against."}}
		return out
	}
	w, err := s.webhookFor(ctx, viewer, p.Webhook.ID)
	if err != nil {
		out.Signatures = []views.SignatureCheck{{Header: "signatures", State: "unknown", Words: "Sent for a webhook that is not yours or was deleted, so its secret cannot be checked here."}}
		return out
	}
	secrets := w.SigningSecrets(r.ReceivedAt)
	out.Signatures = []views.SignatureCheck{
		checkBlue(r.Headers.Get("X-Signature"), secrets, r.Body),
		checkStandard(r.Headers, secrets, r.Body),
	}
	return out
}

func checkBlue(got string, secrets []string, body []byte) views.SignatureCheck {
	sc := views.SignatureCheck{Header: "X-Signature"}
	switch {
	case got == "":
		sc.State, sc.Words = "missing", "The header is missing."
	case slices.ContainsFunc(secrets, func(sec string) bool { return delivery.BlueSignature(sec, body) == got }):
		sc.State, sc.Words = "ok", "Made from exactly this body with the webhook's secret."
	default:
		sc.State, sc.Words = "bad", "It does not match this body and the webhook's secret: the body was changed, or another secret signed it."
	}
	return sc
}

func checkStandard(h http.Header, secrets []string, body []byte) views.SignatureCheck {
	sc := views.SignatureCheck{Header: "webhook-signature"}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	t, err := strconv.ParseInt(ts, 10, 64)
	if sigs == "" || id == "" || err != nil {
		sc.State, sc.Words = "missing", "webhook-id, webhook-timestamp or webhook-signature is missing."
		return sc
	}
	for _, sec := range secrets {
		want, err := delivery.StandardSignature(sec, id, t, body)
		if err != nil {
			continue
		}
		for _, got := range strings.Fields(sigs) {
			if got == want {
				sc.State, sc.Words = "ok", "Made from exactly this body, its id and time with the webhook's secret."
				return sc
			}
		}
	}
	sc.State, sc.Words = "bad", "No signature matches the body, id and timestamp with the webhook's secret."
	return sc
}
