package domain

import (
	"errors"
	"strings"
)

// FieldError is one field of an input that breaks a rule; Err is (or wraps) an *Error.
type FieldError struct {
	Field string
	Err   error
}

// Message is the error's text, naming the field unless it does already.
func (f FieldError) Message() string {
	msg := f.Err.Error()
	if strings.HasPrefix(msg, f.Field+" ") {
		return msg
	}
	return f.Field + ": " + msg
}

// InvalidInput is every problem of one input at once, so a client can show them all
// after one request. errors.Is and errors.As see each field's error, the first first.
type InvalidInput struct {
	Fields []FieldError
}

func (e *InvalidInput) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Message()
	}
	return strings.Join(parts, "; ")
}

func (e *InvalidInput) Unwrap() []error {
	out := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Err
	}
	return out
}

// checks collects the problems of an input's fields.
type checks struct{ fields []FieldError }

// check records err, if any, against field.
func (c *checks) check(field string, err error) {
	if err != nil {
		c.fields = append(c.fields, FieldError{Field: field, Err: err})
	}
}

// err is nil when every field passed, an *InvalidInput otherwise.
func (c *checks) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &InvalidInput{Fields: c.fields}
}

// windowField names the field of a join request that a window refusal is about.
func windowField(err error) string {
	if errors.Is(err, ErrQueueWindowTooFar) {
		return "window_start"
	}
	return "window_end"
}
