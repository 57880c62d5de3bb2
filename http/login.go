package http

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/internal/jsontime"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/http/auth"
	"github.com/supermock/engine/internal/config"
)

type webAppRequest struct {
	InitData string `json:"init_data" required:"true"`
}

type devLoginRequest struct {
	TelegramID int64  `json:"telegram_id" required:"true"`
	Username   string `json:"username"`
	FirstName  string `json:"first_name"`
}

type loginResponse struct {
	Token     string        `json:"token"`
	ExpiresAt jsontime.Time `json:"expires_at"`
	User      sessionUser   `json:"user"`
}

// sessionUser is who logged in, as the user's stream has it at login.
type sessionUser struct {
	ID            string `json:"id"`
	TelegramID    int64  `json:"telegram_id"`
	Username      string `json:"username"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	PhotoURL      string `json:"photo_url"`
	AccountRole   string `json:"account_role" enum:"role"`
	PreferredRole string `json:"preferred_role" enum:"interview-role"`
	Timezone      string `json:"timezone"`
}

// loginWidget takes the fields of the Telegram Login Widget as a flat JSON object;
// auth.VerifyWidget refuses any field the widget does not sign.
func (s *server) loginWidget(c *fiber.Ctx) error {
	who, err := s.widgetIdentity(c)
	if err != nil {
		return err
	}
	return s.login(c, who)
}

// widgetIdentity verifies the Login Widget's object in the body.
func (s *server) widgetIdentity(c *fiber.Ctx) (auth.Identity, error) {
	if s.Config.TelegramToken == "" {
		return auth.Identity{}, errTelegramDisabled
	}
	if err := requireJSON(c); err != nil {
		return auth.Identity{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(c.BodyRaw(), &raw); err != nil || raw == nil {
		return auth.Identity{}, errMalformedJSON
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		var str string
		var num json.Number
		switch {
		case json.Unmarshal(v, &str) == nil:
			fields[k] = str
		case json.Unmarshal(v, &num) == nil:
			fields[k] = num.String()
		default:
			return auth.Identity{}, invalidField(k, "must be a string or a number")
		}
	}
	return auth.VerifyWidget(fields, s.Config.TelegramToken, s.Now(), s.Config.TelegramAuthMaxAge)
}

func (s *server) loginWebApp(c *fiber.Ctx) error {
	if s.Config.TelegramToken == "" {
		return errTelegramDisabled
	}
	var req webAppRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	who, err := auth.VerifyWebApp(req.InitData, s.Config.TelegramToken, s.Now())
	if err != nil {
		return err
	}
	return s.login(c, who)
}

// loginDev trusts the caller: it exists only with APP_ENV=development.
func (s *server) loginDev(c *fiber.Ctx) error {
	if s.Config.AppEnv != config.Development {
		return errNotFound
	}
	var req devLoginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	first := req.FirstName
	if first == "" {
		first = req.Username
	}
	return s.login(c, auth.Identity{ID: req.TelegramID, Username: req.Username, FirstName: first})
}

// login registers the Telegram user on first sight, then issues the session as a
// token in the body and as the HttpOnly cookie.
func (s *server) login(c *fiber.Ctx, who auth.Identity) error {
	reg, l, err := s.openSession(c, who)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if reg.Created {
		status = fiber.StatusCreated
	}
	return answer(c, status, reg.Position, l)
}

// openSession registers the user on first sight, sets the session cookie and returns
// the session.
func (s *server) openSession(c *fiber.Ctx, who auth.Identity) (domain.Registration, loginResponse, error) {
	admin := s.admins[who.ID]
	reg, err := s.Service.RegisterFromTelegram(c.UserContext(), domain.Meta{Actor: telegramActor(who.ID),
		CorrelationID: requestIDOf(c)}, domain.TelegramLogin{TelegramID: who.ID, Username: who.Username,
		FirstName: who.FirstName, LastName: who.LastName, PhotoURL: who.PhotoURL, Admin: admin})
	if err != nil {
		return reg, loginResponse{}, err
	}
	u, err := s.Service.LoadUser(c.UserContext(), reg.UserID)
	if err != nil {
		return reg, loginResponse{}, err
	}
	now := s.Now()
	token := auth.Sign(s.secrets[0], auth.Claims{Subject: reg.UserID.String(), TelegramID: who.ID, Admin: admin}, now, s.Config.JWTTTL)
	s.setSessionCookie(c, token, s.Config.JWTTTL)
	return reg, loginResponse{Token: token, ExpiresAt: jsontime.Of(now.Add(s.Config.JWTTTL)), User: sessionUser{
		ID: u.ID().String(), TelegramID: u.TelegramID(), Username: u.Username(), FirstName: u.FirstName(),
		LastName: u.LastName(), PhotoURL: u.PhotoURL(), AccountRole: string(u.Role()),
		PreferredRole: string(u.PreferredRole()), Timezone: string(u.Timezone()),
	}}, nil
}

// answer sends a JSON body, with the position of the events the request appended.
func answer(c *fiber.Ctx, status int, position string, body any) error {
	if position != "" {
		c.Set(headerEventPosition, position)
	}
	return c.Status(status).JSON(body)
}
