package main

import (
	"os"
	"strings"
	"testing"
)

// The Docker build context must not carry the history, the written site or
// the repository's history: they are large, private, and would bake a
// stale site into the image.
func TestDockerignoreKeepsStateOut(t *testing.T) {
	data, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatalf("the Dockerfile needs a .dockerignore: %v", err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	e, err := parseEnv(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", e.DataDir, e.OutDir} {
		if !lines[want] {
			t.Errorf(".dockerignore does not exclude %q", want)
		}
	}
}

// Every README recipe that runs ./paperfeed says how to build it first.
func TestReadmeBuildsTheBinaryItRuns(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	run := strings.Index(readme, "./paperfeed ")
	if run < 0 {
		t.Skip("the README runs no ./paperfeed binary")
	}
	build := strings.Index(readme, "go build")
	if build < 0 || build > run {
		t.Errorf("the README runs ./paperfeed (offset %d) before saying how to build it (go build at %d)", run, build)
	}
}
