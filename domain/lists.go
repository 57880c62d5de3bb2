package domain

// The closed lists of the domain's enumerations, in the order clients show them. Each
// Parse accepts exactly its list; the API's document takes its enums from here.

var (
	roles             = []Role{RoleUser, RoleAdmin}
	interviewRoles    = []InterviewRole{Candidate, Interviewer}
	experiences       = []Experience{Experience0to1, Experience1to3, Experience3to5, Experience5to10, Experience10up}
	entryStatuses     = []EntryStatus{EntryWaiting, EntryMatched, EntryCancelled, EntryExpired}
	interviewStatuses = []InterviewStatus{StatusScheduled, StatusInProgress, StatusCompleted, StatusCancelled, StatusNoShow}
	notificationKinds = []NotificationKind{NotifyInterviewScheduled, NotifyInterviewReminder, NotifyInterviewCancelled,
		NotifyFeedbackRequest, NotifyFeedbackReminder}
)

// Roles are the account's roles.
func Roles() []string { return texts(roles) }

// InterviewRoles are the sides of an interview.
func InterviewRoles() []string { return texts(interviewRoles) }

// Experiences are the form's experience buckets.
func Experiences() []string { return texts(experiences) }

// EntryStatuses are the states of a queue entry.
func EntryStatuses() []string { return texts(entryStatuses) }

// InterviewStatuses are the states of an interview.
func InterviewStatuses() []string { return texts(interviewStatuses) }

// NotificationKinds are the messages the notifier sends.
func NotificationKinds() []string { return texts(notificationKinds) }

// ProfessionSlugs are the professions' slugs.
func ProfessionSlugs() []string {
	out := make([]string, len(professions))
	for i, p := range professions {
		out[i] = string(p.Slug)
	}
	return out
}

func texts[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}
