package domain

import (
	"slices"
	"strings"
)

// Role is what a user may do in the system, not in an interview.
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

func ParseRole(s string) (Role, error) {
	if r := Role(strings.TrimSpace(s)); slices.Contains(roles, r) {
		return r, nil
	}
	return "", ErrRoleInvalid
}

// InterviewRole is the side a user takes in one interview.
type InterviewRole string

const (
	Candidate   InterviewRole = "candidate"
	Interviewer InterviewRole = "interviewer"
)

func ParseInterviewRole(s string) (InterviewRole, error) {
	if r := InterviewRole(strings.TrimSpace(s)); slices.Contains(interviewRoles, r) {
		return r, nil
	}
	return "", ErrInterviewRoleInvalid
}

// Opposite is the role that pairs with r; none for a value that did not come from Parse.
func (r InterviewRole) Opposite() InterviewRole {
	switch r {
	case Candidate:
		return Interviewer
	case Interviewer:
		return Candidate
	}
	return ""
}
