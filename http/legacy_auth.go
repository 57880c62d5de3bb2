package http

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/projections"
)

// legacyUser is the user as Telegram hands it to the frontend: id is the Telegram id.
type legacyUser struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
	PhotoURL  string `json:"photo_url,omitempty"`
}

type legacySessionData struct {
	Authenticated bool        `json:"authenticated"`
	User          *legacyUser `json:"user"`
}

type legacyLoginData struct {
	Token string     `json:"token"`
	User  legacyUser `json:"user"`
}

type legacyInitDataRequest struct {
	InitData string `json:"initData" required:"true"`
}

// legacySession answers 200 either way: a missing, expired or refused session is
// authenticated: false, which is how the frontend tells a logged-out visitor.
func (s *server) legacySession(c *fiber.Ctx) error {
	sess, _, err := s.sessionFrom(c)
	if err != nil {
		return legacyAnswer(c, legacySessionData{})
	}
	// The session's own writes, its login among them, are read once they are in.
	c.Locals(localSession, sess)
	p, err := read(s, c, projections.ProfileOf, sess.UserID)
	switch {
	case errors.Is(err, domain.ErrUserNotFound):
		return legacyAnswer(c, legacySessionData{})
	case err != nil:
		return err
	}
	return legacyAnswer(c, legacySessionData{Authenticated: true, User: &legacyUser{ID: p.TelegramID,
		FirstName: p.FirstName, LastName: p.LastName, Username: p.Username, PhotoURL: p.PhotoURL}})
}

// legacyWidgetLogin takes the Login Widget's object as the widget hands it over.
func (s *server) legacyWidgetLogin(c *fiber.Ctx) error {
	who, err := s.widgetIdentity(c)
	if err != nil {
		return err
	}
	return s.legacyLogin(c, who)
}

// legacyInitDataLogin is the Mini App's login, {"initData": "<raw>"}.
func (s *server) legacyInitDataLogin(c *fiber.Ctx) error {
	if s.Config.TelegramToken == "" {
		return errTelegramDisabled
	}
	var req legacyInitDataRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	who, err := auth.VerifyWebApp(req.InitData, s.Config.TelegramToken, s.Now())
	if err != nil {
		return err
	}
	return s.legacyLogin(c, who)
}

func (s *server) legacyLogin(c *fiber.Ctx, who auth.Identity) error {
	_, l, err := s.openSession(c, who)
	if err != nil {
		return err
	}
	return legacyAnswer(c, legacyLoginData{Token: l.Token, User: legacyUser{ID: l.User.TelegramID,
		FirstName: l.User.FirstName, LastName: l.User.LastName, Username: l.User.Username, PhotoURL: l.User.PhotoURL}})
}

// legacyLogout ends the session as POST /api/auth/logout does.
func (s *server) legacyLogout(c *fiber.Ctx) error {
	if err := s.endRequestSession(c); err != nil {
		return err
	}
	return c.JSON(legacyOK{Success: true, Message: "Logged out"})
}
