package projections

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/internal/eventlog"
)

// poison is what an older version of the code let into free text: a NUL (which
// PostgreSQL text refuses), a direction override and an escape character.
const poison = "Mal\x00lo\u202ery\x1b"

// closedValues are valid values of the domain's enumerations, which are not free text.
var closedValues = map[reflect.Type]string{
	reflect.TypeFor[domain.Role]():             string(domain.RoleUser),
	reflect.TypeFor[domain.InterviewRole]():    string(domain.Candidate),
	reflect.TypeFor[domain.Profession]():       "qa-engineer",
	reflect.TypeFor[domain.Country]():          "DE",
	reflect.TypeFor[domain.Language]():         "en",
	reflect.TypeFor[domain.Experience]():       string(domain.Experience1to3),
	reflect.TypeFor[domain.Timezone]():         "UTC",
	reflect.TypeFor[domain.NotificationKind](): string(domain.NotifyInterviewScheduled),
	reflect.TypeFor[domain.InterviewStatus]():  string(domain.StatusScheduled),
	reflect.TypeFor[domain.EntryStatus]():      "waiting",
}

// poisoned fills every field of v: ids with id, times with at, numbers with 1, the
// closed enumerations with valid values and every other string with poison (a list of
// strings gets two, a map of scores two names that clean to the same one).
func poisoned(t *testing.T, v reflect.Value, id uuid.UUID, at time.Time) {
	t.Helper()
	switch v.Type() {
	case reflect.TypeFor[uuid.UUID]():
		v.Set(reflect.ValueOf(id))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(at))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.Type().Name() == "string" || v.Type() == reflect.TypeFor[domain.Email]() || v.Type() == reflect.TypeFor[domain.Phone]() {
			v.SetString(poison)
		} else if s, ok := closedValues[v.Type()]; ok {
			v.SetString(s)
		} else {
			t.Fatalf("no valid value for %s: add one to closedValues", v.Type())
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Bool:
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				poisoned(t, v.Field(i), id, at)
			}
		}
	case reflect.Slice:
		if v.Type().Elem() == reflect.TypeFor[string]() {
			v.Set(reflect.ValueOf([]string{poison, "\u2066SQL\x00"}))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		poisoned(t, s.Index(0), id, at)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"s\x00ql", "sql", "\u202ego"} {
			val := reflect.New(v.Type().Elem()).Elem()
			poisoned(t, val, id, at)
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), val)
		}
		v.Set(m)
	default:
		t.Fatalf("cannot fill a %s", v.Type())
	}
}

// An event of every type, each free-text field holding a NUL and more, is appended
// straight to the log, as an older version of the code could have: the live
// projections go through them, storing the text cleaned; a rebuild gives the same rows
// and a replay streams them.
func TestPoisonedTextStallsNoProjection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log, err := eventlog.New(e.pool)
	if err != nil {
		t.Fatal(err)
	}
	id, at := uuid.New(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var changes []domain.Change
	for _, et := range domain.EventTypes() {
		if et.Name == (domain.PersonalDataErased{}).EventType() {
			continue // it holds no text, and would clear the text the test looks for
		}
		ev := et.New()
		poisoned(t, reflect.ValueOf(ev).Elem(), id, at)
		changes = append(changes, domain.Change{Stream: "poison-" + et.Name, Events: []domain.Event{ev}})
	}
	// The actor is an id the engine sets (a user's or "system"), never typed text.
	if _, err := log.Append(context.Background(), domain.Meta{Actor: "system", CorrelationID: poison}, changes...); err != nil {
		t.Fatal(err)
	}

	e.startRunner(t, All(), nil)
	e.waitCaughtUp(t, All(), time.Minute)
	var failing []string
	if err := e.pool.QueryRow(context.Background(),
		`SELECT coalesce(array_agg(name || ': ' || last_error), '{}') FROM projection_checkpoints WHERE last_error <> ''`).Scan(&failing); err != nil {
		t.Fatal(err)
	}
	if len(failing) > 0 {
		t.Fatalf("projections failed on the events: %v", failing)
	}
	var first, tools, skills, reason, comment string
	err = e.pool.QueryRow(context.Background(), `SELECT u.first_name, f.tools::text, fb.skills::text, i.cancel_reason, fb.comment
		FROM users u, user_form_data f, feedback fb, interviews i
		WHERE u.user_id = $1 AND f.user_id = $1 AND fb.interview_id = $1 AND i.interview_id = $1`, id).
		Scan(&first, &tools, &skills, &reason, &comment)
	if err != nil {
		t.Fatal(err)
	}
	if first != "Mallory" || tools != `["Mallory", "SQL"]` || skills != `{"go": 1, "sql": 1}` || reason != "Mallory" || comment != "Mallory" {
		t.Errorf("stored %q, tools %s, skills %s, reason %q, comment %q", first, tools, skills, reason, comment)
	}

	live := dumpAll(t, e)
	if err := e.rebuild(t, context.Background(), RebuildConfig{}); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	sameRows(t, "rebuilt tables", live, dumpAll(t, e))

	for _, format := range []string{FormatNDJSON, FormatCSV} {
		var out bytes.Buffer
		res, err := Replay(context.Background(), e.store, &out, ReplayFilter{}, format)
		if err != nil || res.Events != int64(len(changes)) {
			t.Fatalf("%s replay: %d events, %v", format, res.Events, err)
		}
		if !strings.Contains(out.String(), `Mal\u0000lo`) {
			t.Errorf("the %s replay does not show the events as the log holds them", format)
		}
	}
}
