package http_test

import (
	"testing"
	"time"

	"github.com/supermock/engine/internal/testdb"
)

// An interview started early is completed at the earliest at its scheduled time, so
// the side that started cannot close it before the other was due.
func TestCompleteOnlyFromTheScheduledTime(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(time.Now())
	e := start(t, options{consumers: true, clock: clock})
	cand, intv := e.loginDev(13001), e.loginDev(13002)
	now := clock.Now()
	wantStatus(t, e.call("POST", "/api/queue", cand.Token, window("candidate", "qa-engineer", now, 3*time.Hour)), 201)
	wantStatus(t, e.call("POST", "/api/queue", intv.Token, window("interviewer", "qa-engineer", now, 3*time.Hour)), 201)
	id := e.interviewOf(cand.Token)
	var iv interview
	e.get("/api/interviews/"+id, cand.Token, "", &iv)

	clock.Set(iv.ScheduledAt.Add(-5 * time.Minute))
	e.command("POST", "/api/interviews/"+id+"/start", cand.Token, nil)
	before := e.events()
	wantError(t, e.call("POST", "/api/interviews/"+id+"/complete", cand.Token, nil), 409, "interview-complete-too-early")
	if e.events() != before {
		t.Fatal("a refused completion was stored")
	}
	clock.Set(iv.ScheduledAt)
	pos := e.command("POST", "/api/interviews/"+id+"/complete", cand.Token, nil)
	e.get("/api/interviews/"+id, intv.Token, pos, &iv)
	if iv.Status != "completed" {
		t.Fatalf("after completing at the scheduled time: %+v", iv)
	}
}

// Time zones are the IANA database's, as embedded in the binary: names that only the
// host's zoneinfo folder holds, and the placeholder zone, are refused.
func TestTimezonesOfTheEmbeddedDatabaseOnly(t *testing.T) {
	t.Parallel()
	e := start(t, options{})
	l := e.loginDev(13101)
	for _, tz := range []string{"localtime", "posixrules", "posix/Europe/Berlin", "right/UTC", "Factory", "Local", "/etc/localtime"} {
		before := e.events()
		wantError(t, e.call("PUT", "/api/me", l.Token, map[string]any{"timezone": tz}), 400, "timezone-invalid")
		if e.events() != before {
			t.Fatalf("timezone %q was stored", tz)
		}
	}
	for _, tz := range []string{"Asia/Kolkata", "UTC", "Etc/GMT-3"} {
		wantDone(t, e.call("PUT", "/api/me", l.Token, map[string]any{"timezone": tz}))
	}
}
