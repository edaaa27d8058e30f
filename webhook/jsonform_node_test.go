package webhook_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/webhook"
)

var jsUpdateGolden = flag.Bool("update-ecmascript", false,
	"rewrite testdata/ecmascript/*.json.golden and *.json.error with what Node prints")

var (
	jsNodeDocs = flag.Int("ecmascript-docs", 2000, "random documents TestECMAScriptAgainstNode compares")
	jsNodeSeed = flag.Uint64("ecmascript-seed", 20240506, "seed of those documents")
)

// jsNodeScript is the receiver ECMAScriptJSON imitates: one base64 body per line
// in, "ok <base64 of JSON.stringify(JSON.parse(body.toString()))>" or
// "err <error name>" per line out.
const jsNodeScript = `
const rl = require("readline").createInterface({input: process.stdin, crlfDelay: Infinity});
rl.on("line", (line) => {
	let r;
	try {
		const text = Buffer.from(line, "base64").toString("utf8");
		r = "ok " + Buffer.from(JSON.stringify(JSON.parse(text)), "utf8").toString("base64");
	} catch (e) {
		r = "err " + e.name;
	}
	process.stdout.write(r + "\n");
});
`

// jsNodeResult is what Node made of one body: its output, or the name of the
// error it threw.
type jsNodeResult struct {
	out []byte
	err string
}

// jsNodeRun runs every body through one Node process. Without node on PATH it
// skips the test, except under CI=true, where it fails it.
func jsNodeRun(t *testing.T, bodies [][]byte) []jsNodeResult {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is not on PATH and CI=true: install Node.js 20 to compare ECMAScriptJSON with JavaScript")
		}
		t.Skip("node is not on PATH; skipping the live comparison with JavaScript (TestECMAScriptCorpus still checks the committed Node outputs)")
	}
	cmd := exec.Command(path, "-e", jsNodeScript)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("node: %v", err)
		}
	})
	// Node writes to a pipe synchronously, so feed it from another goroutine.
	go func() {
		w := bufio.NewWriter(stdin)
		for _, b := range bodies {
			w.WriteString(base64.StdEncoding.EncodeToString(b))
			w.WriteByte('\n')
		}
		_ = w.Flush()
	}()
	r := bufio.NewReaderSize(stdout, 1<<16)
	results := make([]jsNodeResult, len(bodies))
	for i := range bodies {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read node's answer %d of %d: %v", i+1, len(bodies), err)
		}
		kind, payload, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch kind {
		case "ok":
			results[i].out, err = base64.StdEncoding.DecodeString(payload)
			if err != nil {
				t.Fatalf("node's answer %d: %v", i+1, err)
			}
		case "err":
			results[i].err = payload
		default:
			t.Fatalf("node's answer %d: unexpected %q", i+1, line)
		}
	}
	return results
}

// jsCompareNode returns "" when ECMAScriptJSON agrees with Node on body, or
// what differs.
func jsCompareNode(body []byte, node jsNodeResult) string {
	got, err := webhook.ECMAScriptJSON(body)
	switch {
	case node.err != "" && err == nil:
		return fmt.Sprintf("got %q, want an error (node: %s)", got, node.err)
	case node.err == "" && err != nil:
		return fmt.Sprintf("got error %v, want %q", err, node.out)
	case node.err == "" && !bytes.Equal(got, node.out):
		return fmt.Sprintf("got  %q\nwant %q", got, node.out)
	}
	return ""
}

// TestECMAScriptCorpusNode runs Node on every corpus input: ECMAScriptJSON must
// agree with it, and so must the committed outputs (-update-ecmascript rewrites
// them).
func TestECMAScriptCorpusNode(t *testing.T) {
	t.Parallel()
	files := jsCorpusFiles(t)
	bodies := make([][]byte, len(files))
	for i, name := range files {
		bodies[i] = jsReadFile(t, name)
	}
	results := jsNodeRun(t, bodies)
	for i, name := range files {
		if *jsUpdateGolden {
			jsWriteGolden(t, name, results[i])
		}
		if diff := jsCompareNode(bodies[i], results[i]); diff != "" {
			t.Errorf("%s: ECMAScriptJSON and node differ:\n%s", filepath.Base(name), diff)
		}
		golden, goldenErr := jsReadGolden(t, name)
		if !bytes.Equal(golden, results[i].out) || goldenErr != results[i].err {
			t.Errorf("%s: committed output is stale (run go test -run TestECMAScriptCorpusNode ./webhook/ -args -update-ecmascript)", filepath.Base(name))
		}
	}
	t.Logf("compared %d corpus files with %s", len(files), jsNodeVersion(t))
}

func jsWriteGolden(t *testing.T, name string, r jsNodeResult) {
	t.Helper()
	goldenPath, errorPath := name+".golden", name+".error"
	_ = os.Remove(goldenPath)
	_ = os.Remove(errorPath)
	var err error
	if r.err != "" {
		err = os.WriteFile(errorPath, []byte(r.err+"\n"), 0o644)
	} else {
		err = os.WriteFile(goldenPath, r.out, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func jsNodeVersion(t *testing.T) string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	return "node " + strings.TrimSpace(string(out))
}

// TestECMAScriptAgainstNode compares ECMAScriptJSON with Node on the table cases
// and on random documents (a fixed seed, so failures repeat) that mix the hard
// parts: number spellings at every exponent, escapes, surrogates, invalid UTF-8,
// integer-like and duplicate keys, and some syntax errors.
func TestECMAScriptAgainstNode(t *testing.T) {
	t.Parallel()
	var bodies [][]byte
	for _, tc := range jsCases {
		bodies = append(bodies, []byte(tc.in))
	}
	g := jsNewGen(*jsNodeSeed)
	for range *jsNodeDocs {
		bodies = append(bodies, g.document())
	}
	results := jsNodeRun(t, bodies)
	mismatches, nodeErrors := 0, 0
	for i, body := range bodies {
		if results[i].err != "" {
			nodeErrors++
		}
		if diff := jsCompareNode(body, results[i]); diff != "" {
			if mismatches++; mismatches <= 10 {
				t.Errorf("document %d %q:\n%s", i, body, diff)
			}
		}
	}
	t.Logf("compared %d documents with %s (%d rejected by JSON.parse): %d mismatches",
		len(bodies), jsNodeVersion(t), nodeErrors, mismatches)
}
