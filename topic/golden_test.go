package topic

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestQueryGolden prints every query of testdata/queries.txt in canonical
// form, or its error (one line) and its caret, and compares with
// testdata/queries.golden.
func TestQueryGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/queries.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out.WriteString("query: " + line + "\n")
		q, err := ParseQuery(line)
		if err != nil {
			out.WriteString("error: " + err.Error() + "\n")
			if qe, ok := err.(*QueryError); ok {
				out.WriteString(qe.Caret() + "\n")
			}
			out.WriteString("\n")
			continue
		}
		out.WriteString("canonical: " + q.String() + "\n\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/queries.golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (run go test -update after checking):\ngot\n%s\nwant\n%s", golden, out.Bytes(), want)
	}
}
