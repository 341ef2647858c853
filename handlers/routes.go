package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is Hookyard's one route table.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/static/*", echo.WrapHandler(s.assets))
	// Bins are public receivers, like any webhook endpoint: no session, no CSRF.
	e.Any("/inspect/:id", echo.WrapHandler(binReceiver{s.store}), s.binPostLimits()...)
	if s.opts.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(s.opts.Metrics), s.requireMetricsToken)
	}

	// Browser pages: session cookie, CSRF on every form (the session's token and the origin).
	ui := e.Group("", s.sessionMiddleware(), s.loadUser, s.csrf)
	ui.GET("/setup", s.showSetup)
	ui.POST("/setup", s.submitSetup)
	ui.GET("/login", s.showLogin)
	ui.POST("/login", s.submitLogin)
	ui.POST("/logout", s.logout)

	in := ui.Group("", s.requireUser)
	in.GET("/", s.dashboard)
	in.GET("/organizations", s.listOrganizations)
	in.GET("/organizations/:id", s.showOrganization)
	in.GET("/event-types", s.listEventTypes)
	in.GET("/event-types/catalog", s.eventCatalogPage)
	in.GET("/webhooks", s.listWebhooks)
	in.GET("/webhooks/new", s.newWebhook)
	in.POST("/webhooks", s.submitBuilder)
	in.GET("/webhooks/:id", s.showWebhook)
	in.GET("/webhooks/:id/edit", s.editWebhook)
	in.POST("/webhooks/:id", s.submitBuilder)
	in.POST("/webhooks/:id/test", s.testWebhook)
	in.POST("/webhooks/:id/enable", s.enableWebhookPage)
	in.POST("/webhooks/:id/disable", s.disableWebhookPage)
	in.POST("/webhooks/:id/reveal-secret", s.revealSecret)
	in.POST("/webhooks/:id/rotate-secret", s.rotateSecretPage)
	in.POST("/webhooks/:id/finish-rotation", s.finishRotationPage)
	in.POST("/webhooks/:id/delete", s.deleteWebhookPage)
	in.POST("/webhooks/:id/replay", s.replayPage)
	in.POST("/webhooks/:id/sample", s.sendSample)
	in.GET("/webhooks/:id/log", s.showLog)
	in.GET("/deliveries/:id", s.showDelivery)
	in.GET("/deliveries/:id/payload", s.rawDeliveryPayload)
	in.GET("/deliveries/:id/attempts/:number/:part", s.rawAttemptPart)
	in.POST("/deliveries/:id/resend", s.resendPage)
	in.GET("/events", s.listEventsPage)
	in.GET("/events/:id", s.showEventPage)
	in.GET("/events/:id/raw", s.rawEventValues)
	in.POST("/events/sample", s.publishSample)
	in.POST("/notifications/:id/dismiss", s.dismissNotification)
	in.GET("/inspector", s.listBins)
	in.POST("/inspector", s.createBin)
	in.POST("/inspector/first-webhook", s.firstWebhook)
	in.GET("/inspector/:id", s.showBin)
	in.GET("/inspector/:id/requests", s.showBinRequests)
	in.GET("/inspector/:id/requests/:request/:part", s.rawBinRequestPart)
	in.POST("/inspector/:id/delete", s.deleteBin)
	in.GET("/account", s.showAccount)
	in.POST("/account", s.saveAccount)
	in.POST("/account/password", s.changePassword)
	in.GET("/settings/tokens", s.listTokens)
	in.POST("/settings/tokens", s.createToken)
	in.POST("/settings/tokens/:id/delete", s.deleteToken)

	// Admin-only pages take requireAdmin per route: a group with middleware would also catch
	// unknown addresses and answer them 403 instead of 404.
	admin := adminRoutes{in}
	admin.POST("/organizations", s.createOrganization)
	admin.POST("/organizations/:id", s.renameOrganization)
	admin.POST("/organizations/:id/delete", s.deleteOrganization)
	admin.POST("/organizations/:id/projects", s.createProject)
	admin.POST("/organizations/:id/members", s.addMember)
	admin.POST("/organizations/:id/members/:userId/delete", s.removeMember)
	admin.POST("/projects/:id", s.renameProject)
	admin.POST("/projects/:id/delete", s.deleteProject)
	admin.GET("/users", s.listUsers)
	admin.POST("/users", s.createUser)
	admin.GET("/users/:id", s.showUser)
	admin.POST("/users/:id", s.saveUser)
	admin.POST("/users/:id/password", s.resetPassword)
	admin.POST("/users/:id/delete", s.deleteUser)
	admin.POST("/users/:id/organizations", s.addUserToOrganization)
	admin.POST("/event-types", s.createEventType)

	// JSON API: bearer tokens, problem+json errors.
	e.GET("/api/v1/openapi.json", s.openAPI)
	api := e.Group("/api/v1", noStore, s.apiAuth)
	api.GET("/me", s.apiMe)
	api.GET("/event-types", s.apiListEventTypes)
	api.POST("/event-types", s.apiCreateEventType, requireAdmin)
	api.GET("/organizations", s.apiListOrganizations)
	api.POST("/organizations", s.apiCreateOrganization, requireAdmin)
	api.GET("/organizations/:id", s.apiGetOrganization)
	api.PATCH("/organizations/:id", s.apiUpdateOrganization, requireAdmin)
	api.DELETE("/organizations/:id", s.apiDeleteOrganization, requireAdmin)
	api.PUT("/organizations/:id/members/:userId", s.apiPutMember, requireAdmin)
	api.DELETE("/organizations/:id/members/:userId", s.apiDeleteMember, requireAdmin)
	api.GET("/projects", s.apiListProjects)
	api.POST("/projects", s.apiCreateProject, requireAdmin)
	api.GET("/projects/:id", s.apiGetProject)
	api.PATCH("/projects/:id", s.apiUpdateProject, requireAdmin)
	api.DELETE("/projects/:id", s.apiDeleteProject, requireAdmin)
	api.GET("/users", s.apiListUsers, requireAdmin)
	api.POST("/users", s.apiCreateUser, requireAdmin)
	api.GET("/users/:id", s.apiGetUser)
	api.PATCH("/users/:id", s.apiUpdateUser)
	api.DELETE("/users/:id", s.apiDeleteUser, requireAdmin)
	api.GET("/webhooks", s.apiListWebhooks)
	api.POST("/webhooks", s.apiCreateWebhook)
	api.GET("/webhooks/:id", s.apiGetWebhook)
	api.PATCH("/webhooks/:id", s.apiUpdateWebhook)
	api.DELETE("/webhooks/:id", s.apiDeleteWebhook)
	api.POST("/webhooks/:id/enable", s.apiEnableWebhook)
	api.POST("/webhooks/:id/disable", s.apiDisableWebhook)
	api.POST("/webhooks/:id/rotate-secret", s.apiRotateSecret)
	api.POST("/webhooks/:id/finish-rotation", s.apiFinishRotation)
	api.POST("/filters/evaluate", s.apiEvaluateFilter)
	api.POST("/webhooks/:id/test", s.apiTestWebhook)
	api.POST("/webhooks/:id/replay", s.apiReplay)
	publishLimit := middleware.BodyLimit(strconv.FormatInt(s.opts.MaxPayload, 10) + "B")
	api.POST("/events", s.apiPublishEvent, publishLimit)
	api.POST("/events/batch", s.apiPublishBatch, publishLimit)
	api.GET("/events", s.apiListEvents)
	api.GET("/events/:id", s.apiGetEvent)
	api.GET("/webhooks/:id/deliveries", s.apiListDeliveries)
	api.GET("/deliveries/:id", s.apiGetDelivery)
	api.POST("/deliveries/:id/resend", s.apiResendDelivery)
	api.Any("/*", apiNoRoute(e))
}

// apiNoRoute answers API requests that match no route: HEAD where GET is taken as GET (the
// server sends no body), 405 with Allow when the address takes other methods (OPTIONS: 204
// with Allow), else 404.
func apiNoRoute(e *echo.Echo) echo.HandlerFunc {
	return func(c echo.Context) error {
		allowed := allowedMethods(e, c.Path(), c.Request())
		if len(allowed) == 0 {
			return echo.ErrNotFound
		}
		if c.Request().Method == http.MethodHead && slices.Contains(allowed, http.MethodGet) {
			e.Router().Find(http.MethodGet, c.Request().URL.Path, c)
			return c.Handler()(c)
		}
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allowed, ", "))
		if c.Request().Method == http.MethodOptions {
			return c.NoContent(http.StatusNoContent)
		}
		return problem(http.StatusMethodNotAllowed, fmt.Sprintf("%s is not accepted at this address; it takes %s.",
			c.Request().Method, strings.Join(allowed, ", ")))
	}
}

// allowedMethods lists the methods a route of e answers at the request's address (other
// than the catch-all route noRoute).
func allowedMethods(e *echo.Echo, noRoute string, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		c := e.NewContext(r, nil)
		e.Router().Find(m, r.URL.Path, c)
		if p := c.Path(); p != "" && p != noRoute {
			out = append(out, m)
		}
	}
	return out
}

// adminRoutes registers routes that only admins may use.
type adminRoutes struct{ g *echo.Group }

func (a adminRoutes) GET(path string, h echo.HandlerFunc)  { a.g.GET(path, h, requireAdmin) }
func (a adminRoutes) POST(path string, h echo.HandlerFunc) { a.g.POST(path, h, requireAdmin) }
