package domain

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Personal data is declared on the event fields themselves: every field that holds
// text carries the tag personal:"<json name of the subject's id field>" when it is
// the personal data of that user (the log stores it encrypted under their key, and
// erasing them deletes the key), or personal:"no" when it is not (an enumeration, a
// rendered template). A test holds every event type to this, so a new text field
// cannot slip in unclassified. Personal fields are top-level and of one subject per
// event.

// ErasedName is how an erased user is named to the people who meet them in their
// interviews.
const ErasedName = "deleted user"

// personalSpec is what the tags of one event type say.
type personalSpec struct {
	subject int      // index of the subject's uuid.UUID field; -1 when nothing is personal
	fields  []string // JSON names of the personal fields
}

var personalSpecs sync.Map // reflect.Type → personalSpec

// PersonalFields returns the user whose personal data event holds and the JSON names
// of those fields; no names when it holds none.
func PersonalFields(event Event) (subject uuid.UUID, fields []string) {
	v := reflect.Indirect(reflect.ValueOf(event))
	spec, err := personalOf(v.Type())
	if err != nil {
		panic(err) // the classification test makes this unreachable for declared events
	}
	if spec.subject < 0 {
		return uuid.Nil, nil
	}
	return v.Field(spec.subject).Interface().(uuid.UUID), spec.fields
}

func personalOf(t reflect.Type) (personalSpec, error) {
	if s, ok := personalSpecs.Load(t); ok {
		return s.(personalSpec), nil
	}
	spec := personalSpec{subject: -1}
	subjectName := ""
	for i := range t.NumField() {
		f := t.Field(i)
		tag, tagged := f.Tag.Lookup("personal")
		if !holdsText(f.Type) {
			if tagged {
				return spec, fmt.Errorf("%s.%s holds no text but is tagged personal", t.Name(), f.Name)
			}
			continue
		}
		if !tagged || tag == "" {
			return spec, fmt.Errorf("%s.%s holds text: tag it personal:\"<subject field>\" or personal:\"no\"", t.Name(), f.Name)
		}
		if tag == "no" {
			continue
		}
		if subjectName != "" && subjectName != tag {
			return spec, fmt.Errorf("%s: personal fields of two subjects, %s and %s", t.Name(), subjectName, tag)
		}
		subjectName = tag
		spec.fields = append(spec.fields, jsonName(f))
	}
	if subjectName != "" {
		for i := range t.NumField() {
			if f := t.Field(i); jsonName(f) == subjectName && f.Type == reflect.TypeOf(uuid.UUID{}) {
				spec.subject = i
			}
		}
		if spec.subject < 0 {
			return spec, fmt.Errorf("%s: the subject %q is not a uuid field of the event", t.Name(), subjectName)
		}
	}
	personalSpecs.Store(t, spec)
	return spec, nil
}

// holdsText reports whether values of t contain strings (map keys included).
func holdsText(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String:
		return true
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return holdsText(t.Elem())
	case reflect.Map:
		return holdsText(t.Key()) || holdsText(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsText(f.Type) {
				return true
			}
		}
	}
	return false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}
