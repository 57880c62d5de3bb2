package http

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/projections"
)

// legacyExperienceNone is the frontend's "0-0 study" bucket; the engine's first
// bucket, 0-1, includes no experience yet.
const legacyExperienceNone = "0-0"

type legacyFormRequest struct {
	Profession string `json:"profession" required:"true"`
	Country    string `json:"country" required:"true"`
	Language   string `json:"language" required:"true"`
	Experience string `json:"experience" required:"true"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
}

// legacyFormData is the form with the role the frontend offers: status is the role
// preselected, canBeCandidate whether the candidate side may be chosen as well.
type legacyFormData struct {
	projections.LegacyForm
	Status         string `json:"status"`
	CanBeCandidate bool   `json:"canBeCandidate"`
}

type legacyProfessionRequest struct {
	Profession string `json:"profession" required:"true"`
}

type legacyProfessionData struct {
	Profession string `json:"profession"`
}

// legacyForm: the frontend enables the interviewer side only when status is
// INTERVIEWER, and the candidate side when canBeCandidate is true as well. So status is
// CANDIDATE only for a user whose preferred role is candidate after feedback has come
// their way (the flip after an exchange); everyone else, new users too, may pick
// either side, as the engine lets them.
func (s *server) legacyForm(c *fiber.Ctx) error {
	f, err := read(s, c, projections.LegacyFormOf, sessionOf(c).UserID)
	if err != nil {
		return err
	}
	out := legacyFormData{LegacyForm: f, Status: "INTERVIEWER", CanBeCandidate: true}
	if f.PreferredRole == string(domain.Candidate) && f.FeedbackReceived {
		out.Status = "CANDIDATE"
	}
	return legacyAnswer(c, out)
}

// legacySubmitForm serves POST and PUT alike; tools, which the frontend does not
// know, stay as they are.
func (s *server) legacySubmitForm(c *fiber.Ctx) error {
	req, u, err := legacyInput[legacyFormRequest](s, c)
	if err != nil {
		return err
	}
	old, _ := u.Form()
	if req.Experience == legacyExperienceNone {
		req.Experience = string(domain.Experience0to1)
	}
	pos, err := s.Service.SubmitForm(c.UserContext(), s.meta(c), u.ID(), domain.FormInput{
		Profession: req.Profession, Country: req.Country, Experience: req.Experience, Language: req.Language,
		Email: req.Email, Phone: req.Phone, Tools: old.Tools,
	})
	if err != nil {
		return err
	}
	s.sawWrite(c, pos)
	return s.legacyForm(c)
}

// legacySelectProfession puts the profession first among the selected ones.
func (s *server) legacySelectProfession(c *fiber.Ctx) error {
	req, u, err := legacyInput[legacyProfessionRequest](s, c)
	if err != nil {
		return err
	}
	slugs := []string{req.Profession}
	for _, p := range u.Professions() {
		if !slices.Contains(slugs, string(p)) {
			slugs = append(slugs, string(p))
		}
	}
	if _, err := s.Service.SelectProfessions(c.UserContext(), s.meta(c), u.ID(), slugs); err != nil {
		return err
	}
	return legacyAnswer(c, legacyProfessionData{Profession: slugs[0]})
}
