package delivery

import (
	"time"

	"hookyard/store"
)

// sender makes attempts until the dispatcher closes the work channel.
func (e *Engine) sender() {
	defer e.workers.Done()
	for j := range e.disp.work {
		e.disp.finished(j.webhookID, e.attempt(j), true)
	}
}

// attempt sends one held delivery and hands its outcome to the result writer. It reports
// what the attempt said about the receiver, for the webhook's concurrency limit.
func (e *Engine) attempt(j job) signal {
	ctx := e.sendCtx
	// Read this engine's own switch-off mark before the index: the result writer removes the
	// mark only after the store has recorded the switch-off, so either the mark or the
	// refreshed index shows it.
	mark, marked := e.switchedOff.Load(j.webhookID)
	if err := e.idx.refresh(ctx); err != nil {
		if ctx.Err() == nil {
			e.log.Error("load webhooks; the delivery stays pending", "delivery", j.deliveryID, "err", err)
		}
		e.requeue(j, time.Second)
		return signalNone
	}
	if owner, held := e.member.lease(j.webhookID); !held || owner != j.owner {
		// Its shard moved to another node, which sends it now: fenced off, nothing written.
		return signalNone
	}
	h, ok := e.idx.webhook(j.webhookID)
	var ev EventData
	if j.ev != nil {
		ev = *j.ev
	} else if stored, err := e.store.Event(ctx, j.eventID); err == nil {
		ev = eventData(stored)
	} else {
		if ctx.Err() == nil {
			e.log.Error("load event for delivery; it stays pending", "delivery", j.deliveryID, "err", err)
			// Put it back in the queue, a second from now.
			e.requeue(j, time.Second)
		}
		return signalNone
	}
	reason := ""
	verdict := Receives
	if ok && h.webhook.Enabled {
		// Checked again at every attempt: an owner who left the organisation, or a webhook
		// whose choices or filter changed, must not get the event.
		verdict = h.match(RefOf(ev))
	}
	switch {
	case ok && marked && e.justSwitchedOff(&h, mark.(time.Time)):
		reason = "Cancelled: the webhook was switched off."
	case !ok || !h.webhook.Enabled:
		reason = "Cancelled: the webhook was switched off or deleted."
	case verdict == FilterNotMatched:
		reason = "Cancelled: the webhook's filter now leaves this event out."
	case verdict != Receives:
		reason = "Cancelled: the webhook no longer receives this event (its choices or its owner's access changed)."
	}
	if reason != "" {
		e.cfg.Metrics.cancelled()
		e.results.put(store.AttemptOutcome{LeaseOwner: j.owner, Attempt: store.Attempt{DeliveryID: j.deliveryID, WebhookID: j.webhookID},
			Cancel: reason})
		return signalNone
	}
	body, err := BuildPayload(h.webhook, ev)
	if err != nil {
		// Not the receiver's fault and not passing: say so on the delivery rather than
		// leave it held. The event stays stored and can be replayed.
		e.log.Error("build payload", "delivery", j.deliveryID, "err", err)
		e.cfg.Metrics.cancelled()
		e.results.put(store.AttemptOutcome{LeaseOwner: j.owner, Attempt: store.Attempt{DeliveryID: j.deliveryID, WebhookID: j.webhookID},
			Cancel: "Cancelled: Hookyard could not build the request body for this event (" + err.Error() + ")."})
		return signalNone
	}
	sent := e.cfg.Metrics.sending()
	res := e.client.Send(ctx, Request{URL: h.webhook.URL, Secrets: h.webhook.SigningSecrets(time.Now()),
		MessageID: j.messageID, Event: ev.Type, Attempt: j.attempt, Body: body, Headers: h.webhook.Headers})
	sent()
	if ctx.Err() != nil {
		// Shutdown cut the attempt short: it does not count; the delivery goes back to the
		// queue, due at once.
		e.requeue(j, 0)
		return signalNone
	}
	v := classify(res, j.attempt, e.retry.MaxAttempts(), ev.Type)
	out := store.AttemptOutcome{LeaseOwner: j.owner, Attempt: store.Attempt{
		DeliveryID: j.deliveryID, WebhookID: j.webhookID, Number: j.attempt, StartedAt: res.StartedAt,
		Duration: res.Duration, RequestHeaders: res.RequestHeaders, StatusCode: res.StatusCode,
		ResponseHeaders: res.ResponseHeaders, ResponseBody: string(res.ResponseBody), Truncated: res.Truncated,
		Error: res.Error, OK: res.OK(), HeadersTruncated: res.HeadersTruncated,
		RequestBody: body,
	}, Created: ev.CreatedAt, Status: v.status, DisableReason: v.disableReason}
	if v.status == store.DeliveryPending {
		next := e.retry.Next(j.attempt, res.RetryAfter, res.StartedAt.Add(res.Duration))
		out.NextAttemptAt = &next
	}
	if out.DisableReason != "" {
		mark := time.Now()
		e.switchedOff.Store(j.webhookID, mark)
		e.marks.Store(j.deliveryID, mark)
	}
	e.cfg.Metrics.attempted(res, j.attempt, out.Status, ev.CreatedAt)
	e.results.put(out)
	if res.OK() {
		return signalSuccess
	}
	return signalFailure
}

// requeue puts a held delivery back in the queue, due after the given wait, without
// counting an attempt (it could not be sent for a reason that was not the receiver's).
func (e *Engine) requeue(j job, after time.Duration) {
	due := time.Now().Add(after)
	e.results.put(store.AttemptOutcome{LeaseOwner: j.owner, Attempt: store.Attempt{DeliveryID: j.deliveryID, WebhookID: j.webhookID},
		Requeue: true, Status: store.DeliveryPending, NextAttemptAt: &due})
}

// justSwitchedOff reports whether the engine switched this webhook off itself (at mark) and
// the stored state (as the index shows it) may not say so yet.
func (e *Engine) justSwitchedOff(h *hookState, mark time.Time) bool {
	at := mark.Truncate(time.Millisecond)
	if !h.webhook.Enabled || (h.webhook.LastDisabledAt != nil && !h.webhook.LastDisabledAt.Before(at)) {
		// The store knows: it is off (the normal checks apply), or it was switched back on
		// after this engine switched it off.
		e.switchedOff.CompareAndDelete(h.webhook.ID, mark)
		return false
	}
	return true
}
