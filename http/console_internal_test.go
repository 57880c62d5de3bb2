package http

import (
	"maps"
	"regexp"
	"slices"
	"testing"
)

func TestPickLanguageFollowsAcceptLanguage(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"":                               "en",
		"ru-RU,ru;q=0.9,en-US;q=0.8":     "ru",
		"en-GB,en;q=0.9,ru;q=0.8":        "en",
		"de-DE,de;q=0.9":                 "en",
		"de;q=0.9, ru;q=0.5, en;q=0.4":   "ru",
		"en;q=0.2, RU":                   "ru",
		"ru;q=0, en;q=0.1":               "en",
		"*":                              "en",
		"fr, ru-Latn-RU;q=0.7, en;q=0.7": "ru",
	} {
		if got := pickLanguage(header, consoleLanguages); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", header, got, want)
		}
	}
}

// Every language labels what the other does, and every label the page and the
// scripts ask for exists.
func TestConsoleLabelsAreComplete(t *testing.T) {
	t.Parallel()
	labels := consoleLabels()
	if len(labels) != len(consoleLanguages) {
		t.Fatalf("labels for %v, want %v", slices.Collect(maps.Keys(labels)), consoleLanguages)
	}
	en := slices.Sorted(maps.Keys(labels["en"]))
	for _, lang := range consoleLanguages {
		if got := slices.Sorted(maps.Keys(labels[lang])); !slices.Equal(got, en) {
			t.Errorf("%s labels %v, en labels %v", lang, got, en)
		}
	}
	// A dotted name in quotes is a label's key; keys without a dot are few and in the page.
	used := regexp.MustCompile(`"([a-z_]+(?:\.[a-z_]+)+)"`)
	seen := map[string]bool{}
	files, err := consoleFiles.ReadDir("console")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, _ := consoleFiles.ReadFile("console/" + f.Name())
		if f.Name() == "labels.json" {
			continue
		}
		for _, m := range used.FindAllStringSubmatch(string(raw), -1) {
			seen[m[1]] = true
			if _, ok := labels["en"][m[1]]; !ok {
				t.Errorf("%s asks for the label %q, which is not in labels.json", f.Name(), m[1])
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d labels found in use: %v", len(seen), slices.Sorted(maps.Keys(seen)))
	}
	for _, page := range consolePages {
		if _, ok := labels["en"]["nav."+page]; !ok {
			t.Errorf("the page %s has no menu label", page)
		}
		if _, err := consoleFiles.ReadFile("console/" + page + ".js"); err != nil {
			t.Errorf("the page %s has no script: %v", page, err)
		}
	}
}
