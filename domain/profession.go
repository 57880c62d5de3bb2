package domain

import (
	"fmt"
	"strings"
)

// Profession is one of the 20 slugs SuperMock interviews for; Parse refuses others.
type Profession string

// ProfessionInfo is a slug with its display label, for GET /api/professions.
type ProfessionInfo struct {
	Slug  Profession `json:"slug" enum:"profession"`
	Label string     `json:"label"`
}

// professions keeps the order clients show.
var professions = []ProfessionInfo{
	{"frontend-developer", "Frontend Developer"},
	{"backend-developer", "Backend Developer"},
	{"fullstack-developer", "Fullstack Developer"},
	{"mobile-developer", "Mobile Developer"},
	{"devops-engineer", "DevOps Engineer"},
	{"data-scientist", "Data Scientist"},
	{"data-engineer", "Data Engineer"},
	{"qa-engineer", "QA Engineer"},
	{"ui-ux-designer", "UI/UX Designer"},
	{"product-manager", "Product Manager"},
	{"project-manager", "Project Manager"},
	{"system-administrator", "System Administrator"},
	{"security-engineer", "Security Engineer"},
	{"machine-learning-engineer", "Machine Learning Engineer"},
	{"blockchain-developer", "Blockchain Developer"},
	{"game-developer", "Game Developer"},
	{"embedded-developer", "Embedded Developer"},
	{"cloud-engineer", "Cloud Engineer"},
	{"network-engineer", "Network Engineer"},
	{"database-administrator", "Database Administrator"},
}

var professionRank = func() map[Profession]int {
	m := make(map[Profession]int, len(professions))
	for i, p := range professions {
		m[p.Slug] = i
	}
	return m
}()

// Professions lists every profession in display order.
func Professions() []ProfessionInfo {
	return append([]ProfessionInfo(nil), professions...)
}

// ParseProfession accepts exactly one of the slugs (surrounding spaces aside).
func ParseProfession(s string) (Profession, error) {
	p := Profession(strings.TrimSpace(s))
	if _, ok := professionRank[p]; !ok {
		return "", fmt.Errorf("%w: %q", ErrProfessionUnknown, s)
	}
	return p, nil
}

// Label is the display name, empty for a value that did not come from Parse.
func (p Profession) Label() string {
	if i, ok := professionRank[p]; ok {
		return professions[i].Label
	}
	return ""
}
