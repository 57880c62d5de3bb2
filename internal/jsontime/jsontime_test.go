package jsontime_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/supermock/engine/internal/jsontime"
)

func TestTimeIsUTCWithMilliseconds(t *testing.T) {
	t.Parallel()
	moscow := time.FixedZone("MSK", 3*3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 1, 21, 0, 0, 0, moscow), `"2026-12-01T18:00:00.000Z"`},
		{time.Date(2026, 12, 1, 18, 0, 0, 123456789, time.UTC), `"2026-12-01T18:00:00.123Z"`},
	} {
		out, err := json.Marshal(struct {
			At  jsontime.Time  `json:"at"`
			Nil *jsontime.Time `json:"nil"`
		}{At: jsontime.Of(tc.in)})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"at":` + tc.want + `,"nil":null}`; string(out) != want {
			t.Errorf("%v: %s, want %s", tc.in, out, want)
		}
	}
	var back jsontime.Time
	if err := json.Unmarshal([]byte(`"2026-12-01T21:00:00.5+03:00"`), &back); err != nil ||
		!back.Equal(time.Date(2026, 12, 1, 18, 0, 0, 5e8, time.UTC)) || back.Location() != time.UTC {
		t.Fatalf("read %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &back); err == nil {
		t.Fatal("a time that is not RFC 3339 was read")
	}
	if jsontime.OrNil(time.Time{}) != nil {
		t.Fatal("the zero time is not null")
	}
}
