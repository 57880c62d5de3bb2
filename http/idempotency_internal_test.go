package http

import "testing"

// Answers that ask for a retry are not kept for the key: a retry must run the command.
func TestRetryableAnswersAreNotKept(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		want   bool
	}{
		{409, `{"error":{"code":"concurrent-modification","message":"retry"}}`, true},
		{409, `{"error":{"code":"queue-window-overlaps","message":"no"}}`, false},
		{429, `{"error":{"code":"rate-limited"}}`, true},
		{408, ``, true},
		{400, `{"error":{"code":"malformed-json"}}`, false},
		{201, `{"entry_id":"x"}`, false},
	}
	for _, c := range cases {
		if got := retryable(c.status, []byte(c.body)); got != c.want {
			t.Errorf("retryable(%d, %s) = %v, want %v", c.status, c.body, got, c.want)
		}
	}
}
