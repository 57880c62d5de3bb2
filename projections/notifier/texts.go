package notifier

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/supermock/engine/domain"
)

// message is what one recipient reads: a short title and the text sent to Telegram.
type message struct {
	Title string
	Text  string
}

// phrasebook is one language's wording; templates see a textData.
type phrasebook struct {
	titles   map[domain.NotificationKind]string
	bodies   map[domain.NotificationKind]*template.Template
	roles    map[domain.InterviewRole]string
	open     string // the line that links the app from feedback messages
	weekdays [7]string
	months   [12]string
}

type textData struct {
	Profession string
	Language   string
	Role       string
	When       string // weekday, date, time and zone
	Time       string // time and zone, for the day itself
	Date       string // day and month, for looking back
	Minutes    int
	Link       string
}

func bodies(texts map[domain.NotificationKind]string) map[domain.NotificationKind]*template.Template {
	out := make(map[domain.NotificationKind]*template.Template, len(texts))
	for kind, text := range texts {
		out[kind] = template.Must(template.New(string(kind)).Parse(text))
	}
	return out
}

var english = phrasebook{
	titles: map[domain.NotificationKind]string{
		domain.NotifyInterviewScheduled: "Interview confirmed",
		domain.NotifyInterviewReminder:  "Interview in 30 minutes",
		domain.NotifyInterviewCancelled: "Interview cancelled",
		domain.NotifyFeedbackRequest:    "How did it go?",
		domain.NotifyFeedbackReminder:   "Feedback reminder",
	},
	bodies: bodies(map[domain.NotificationKind]string{
		domain.NotifyInterviewScheduled: "Your mock interview is confirmed: {{.Profession}}, language {{.Language}}. You are the {{.Role}}.\n" +
			"When: {{.When}}, {{.Minutes}} min.\nLink: {{.Link}}",
		domain.NotifyInterviewReminder: "Your {{.Profession}} mock interview starts in 30 minutes, at {{.Time}}. You are the {{.Role}}.\n" +
			"Link: {{.Link}}",
		domain.NotifyInterviewCancelled: "Your {{.Profession}} mock interview of {{.When}} was cancelled by the other side. " +
			"You can join the queue again in the app.",
		domain.NotifyFeedbackRequest: "Your {{.Profession}} mock interview is over. " +
			"Please rate the other side: it takes a minute and helps them improve.",
		domain.NotifyFeedbackReminder: "You have not rated your {{.Profession}} mock interview of {{.Date}} yet. " +
			"Your feedback is still welcome.",
	}),
	roles:    map[domain.InterviewRole]string{domain.Candidate: "candidate", domain.Interviewer: "interviewer"},
	open:     "Open SuperMock: ",
	weekdays: [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
	months:   [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
}

var russian = phrasebook{
	titles: map[domain.NotificationKind]string{
		domain.NotifyInterviewScheduled: "Собеседование назначено",
		domain.NotifyInterviewReminder:  "Собеседование через 30 минут",
		domain.NotifyInterviewCancelled: "Собеседование отменено",
		domain.NotifyFeedbackRequest:    "Как прошло собеседование?",
		domain.NotifyFeedbackReminder:   "Напоминание об отзыве",
	},
	bodies: bodies(map[domain.NotificationKind]string{
		domain.NotifyInterviewScheduled: "Пробное собеседование назначено: {{.Profession}}, язык {{.Language}}. Ваша роль: {{.Role}}.\n" +
			"Когда: {{.When}}, {{.Minutes}} мин.\nСсылка: {{.Link}}",
		domain.NotifyInterviewReminder: "Пробное собеседование {{.Profession}} начнётся через 30 минут, в {{.Time}}. Ваша роль: {{.Role}}.\n" +
			"Ссылка: {{.Link}}",
		domain.NotifyInterviewCancelled: "Пробное собеседование {{.Profession}}, назначенное на {{.When}}, отменено другой стороной. " +
			"Вы можете снова встать в очередь в приложении.",
		domain.NotifyFeedbackRequest: "Пробное собеседование {{.Profession}} завершено. " +
			"Оцените, пожалуйста, собеседника: это займёт минуту и поможет ему стать лучше.",
		domain.NotifyFeedbackReminder: "Вы ещё не оценили пробное собеседование {{.Profession}} от {{.Date}}. " +
			"Ваш отзыв по-прежнему ждут.",
	}),
	roles:    map[domain.InterviewRole]string{domain.Candidate: "кандидат", domain.Interviewer: "интервьюер"},
	open:     "Открыть SuperMock: ",
	weekdays: [7]string{"вс", "пн", "вт", "ср", "чт", "пт", "сб"},
	months: [12]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
		"сентября", "октября", "ноября", "декабря"},
}

// phrasebookFor picks the user's language: the form's language when it is Russian,
// English otherwise (also before the form is filled in).
func phrasebookFor(u *domain.User) *phrasebook {
	if form, ok := u.Form(); ok && form.Language == "ru" {
		return &russian
	}
	return &english
}

// times fills in t, shown in the user's zone and naming it, so nobody has to guess.
func (p *phrasebook) times(d *textData, t time.Time, tz domain.Timezone) {
	if tz == "" {
		tz = domain.DefaultTimezone
	}
	t = t.In(tz.Location())
	d.Date = fmt.Sprintf("%d %s", t.Day(), p.months[t.Month()-1])
	d.Time = t.Format("15:04") + " (" + string(tz) + ")"
	d.When = fmt.Sprintf("%s, %s %d, %s", p.weekdays[t.Weekday()], d.Date, t.Year(), d.Time)
}

// render writes kind's message about iv for u; appURL, when set, is linked from the
// feedback messages, where the user has something to do in the app.
func render(kind domain.NotificationKind, iv *domain.Interview, u *domain.User, appURL string) (message, error) {
	p := phrasebookFor(u)
	body, ok := p.bodies[kind]
	if !ok {
		return message{}, fmt.Errorf("no text for notification kind %q", kind)
	}
	data := textData{
		Profession: iv.Profession().Label(), Language: strings.ToUpper(string(iv.Language())),
		Role: p.roles[iv.RoleOf(u.ID())], Minutes: int(iv.Duration() / time.Minute), Link: iv.MeetingLink(),
	}
	p.times(&data, iv.ScheduledAt(), u.Timezone())
	var text strings.Builder
	if err := body.Execute(&text, data); err != nil {
		return message{}, err
	}
	if appURL != "" && (kind == domain.NotifyFeedbackRequest || kind == domain.NotifyFeedbackReminder) {
		text.WriteString("\n" + p.open + appURL)
	}
	return message{Title: p.titles[kind], Text: text.String()}, nil
}
