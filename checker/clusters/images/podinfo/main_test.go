package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testServer(t *testing.T, opts options) (*server, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	if opts.port == 0 {
		opts.port = 9898
	}
	logs := &bytes.Buffer{}
	app := newServer(opts, slog.New(slog.NewJSONHandler(logs, nil)))
	ts := httptest.NewServer(app.routes())
	t.Cleanup(ts.Close)
	return app, ts, logs
}

func call(t *testing.T, ts *httptest.Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Course", "rwk")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func expect(t *testing.T, ts *httptest.Server, method, path string, want int) string {
	t.Helper()
	got, body := call(t, ts, method, path)
	if got != want {
		t.Fatalf("%s %s: status %d, want %d (body %q)", method, path, got, want, body)
	}
	return body
}

func TestReadinessToggles(t *testing.T) {
	_, ts, _ := testServer(t, options{})
	if body := expect(t, ts, "GET", "/readyz", 200); !strings.Contains(body, `"OK"`) {
		t.Errorf("GET /readyz body %q, want status OK", body)
	}
	if body := expect(t, ts, "POST", "/readyz/disable", 202); body != "" {
		t.Errorf("POST /readyz/disable printed %q, want nothing", body)
	}
	expect(t, ts, "GET", "/readyz", 503)
	expect(t, ts, "GET", "/healthz", 200) // liveness is not readiness
	expect(t, ts, "POST", "/readyz/disable", 202)
	expect(t, ts, "GET", "/readyz", 503)
	expect(t, ts, "POST", "/readyz/enable", 202)
	expect(t, ts, "GET", "/readyz", 200)
	expect(t, ts, "GET", "/readyz/disable", 405) // a GET must not switch anything
	expect(t, ts, "GET", "/readyz", 200)
}

func TestLivenessToggles(t *testing.T) {
	_, ts, _ := testServer(t, options{})
	body := expect(t, ts, "GET", "/healthz", 200)
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil || got["status"] != "OK" {
		t.Fatalf("GET /healthz body %q, want {\"status\":\"OK\"}", body)
	}
	expect(t, ts, "POST", "/healthz/disable", 202)
	expect(t, ts, "GET", "/healthz", 503)
	expect(t, ts, "GET", "/readyz", 200)
	expect(t, ts, "POST", "/healthz/enable", 202)
	expect(t, ts, "GET", "/healthz", 200)
}

func TestUnreadyAndUnhealthyFlags(t *testing.T) {
	opts, _, err := parseArgs([]string{"--port=8080", "--unready", "--unhealthy"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := testServer(t, opts)
	expect(t, ts, "GET", "/readyz", 503)
	expect(t, ts, "GET", "/healthz", 503)
	expect(t, ts, "POST", "/readyz/enable", 202)
	expect(t, ts, "GET", "/readyz", 200)
}

func TestInfo(t *testing.T) {
	old := version
	version = "6.7.1"
	t.Cleanup(func() { version = old })
	_, ts, _ := testServer(t, options{uiMessage: "hello from revision 3"})
	for _, path := range []string{"/", "/api/info"} {
		var got map[string]string
		if err := json.Unmarshal([]byte(expect(t, ts, "GET", path, 200)), &got); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		hostname, _ := os.Hostname()
		if got["hostname"] != hostname || got["version"] != "6.7.1" || got["message"] != "hello from revision 3" {
			t.Errorf("GET %s: %v", path, got)
		}
		for _, key := range []string{"color", "goos", "goarch", "runtime", "num_goroutine", "num_cpu"} {
			if got[key] == "" {
				t.Errorf("GET %s: no %s in %v", path, key, got)
			}
		}
	}
	if body := expect(t, ts, "GET", "/version", 200); !strings.Contains(body, `"6.7.1"`) {
		t.Errorf("GET /version: %q", body)
	}
}

func TestUnknownPathsAnswer404(t *testing.T) {
	_, ts, _ := testServer(t, options{})
	for _, path := range []string{"/ready", "/health", "/livez", "/readyz/nothing", "/nothing"} {
		expect(t, ts, "GET", path, 404)
	}
}

func TestStatus(t *testing.T) {
	_, ts, _ := testServer(t, options{})
	for path, want := range map[string]int{"/status/500": 500, "/status/200": 200, "/status/418": 418,
		"/status/503": 503, "/status/abc": 400, "/status/99": 400, "/status/600": 400} {
		expect(t, ts, "GET", path, want)
	}
	expect(t, ts, "POST", "/status/201", 201)
}

func TestDelay(t *testing.T) {
	_, ts, _ := testServer(t, options{})
	start := time.Now()
	expect(t, ts, "GET", "/delay/0.2", 200)
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("GET /delay/0.2 answered after %v", elapsed)
	}
	expect(t, ts, "GET", "/delay/-1", 400)
	expect(t, ts, "GET", "/delay/soon", 400)

	// A client that gives up (a probe's timeout) does not wait for the delay.
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := client.Get(ts.URL + "/delay/2"); err == nil {
		t.Error("GET /delay/2 with a 100 ms timeout succeeded")
	}
}

func TestEnvAndHeaders(t *testing.T) {
	t.Setenv("RWK_TEST_VARIABLE", "visible")
	_, ts, _ := testServer(t, options{})
	var environment []string
	if err := json.Unmarshal([]byte(expect(t, ts, "GET", "/env", 200)), &environment); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, entry := range environment {
		found = found || entry == "RWK_TEST_VARIABLE=visible"
	}
	if !found {
		t.Errorf("GET /env lacks RWK_TEST_VARIABLE=visible: %v", environment)
	}
	var headers map[string][]string
	if err := json.Unmarshal([]byte(expect(t, ts, "GET", "/headers", 200)), &headers); err != nil {
		t.Fatal(err)
	}
	if got := headers["X-Course"]; len(got) != 1 || got[0] != "rwk" {
		t.Errorf("GET /headers: X-Course is %v in %v", got, headers)
	}
}

func TestConfigsFollowTheMountedFiles(t *testing.T) {
	// The layout the kubelet gives a configMap volume: keys are symlinks through ..data.
	dir := t.TempDir()
	first := filepath.Join(dir, "..2026_01_01_00_00_00.1")
	if err := os.Mkdir(first, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(first, "LOG_LEVEL"), []byte("info"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(first), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/LOG_LEVEL", filepath.Join(dir, "LOG_LEVEL")); err != nil {
		t.Fatal(err)
	}
	_, ts, _ := testServer(t, options{configPath: dir})
	read := func() map[string]string {
		var files map[string]string
		if err := json.Unmarshal([]byte(expect(t, ts, "GET", "/configs", 200)), &files); err != nil {
			t.Fatal(err)
		}
		return files
	}
	if files := read(); len(files) != 1 || files["LOG_LEVEL"] != "info" {
		t.Fatalf("GET /configs: %v, want just LOG_LEVEL=info", files)
	}
	// The kubelet's update: a new directory, then ..data swapped to it.
	second := filepath.Join(dir, "..2026_01_01_00_01_00.2")
	if err := os.Mkdir(second, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(second, "LOG_LEVEL"), []byte("debug"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(second), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if files := read(); files["LOG_LEVEL"] != "debug" {
		t.Fatalf("GET /configs after the update: %v, want LOG_LEVEL=debug", files)
	}

	_, none, _ := testServer(t, options{})
	if body := expect(t, none, "GET", "/configs", 200); strings.TrimSpace(body) != "{}" {
		t.Errorf("GET /configs without --config-path: %q", body)
	}
	_, missing, _ := testServer(t, options{configPath: filepath.Join(dir, "absent")})
	expect(t, missing, "GET", "/configs", 500)
}

func TestMetricsAndRequestLog(t *testing.T) {
	_, ts, logs := testServer(t, options{})
	expect(t, ts, "GET", "/healthz", 200)
	expect(t, ts, "GET", "/healthz", 200)
	expect(t, ts, "POST", "/readyz/disable", 202)
	body := expect(t, ts, "GET", "/metrics", 200)
	for _, line := range []string{
		`podinfo_http_requests_total{method="GET",path="/healthz",status="200"} 2`,
		`podinfo_http_requests_total{method="POST",path="/readyz/disable",status="202"} 1`,
		"podinfo_ready 0",
		"podinfo_healthy 1",
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("GET /metrics lacks %q:\n%s", line, body)
		}
	}
	ts.Close() // waits for the handlers, so the log is complete and no longer written
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	requests := 0
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not one JSON object: %q", line)
		}
		if entry["msg"] == "request" {
			requests++
		}
	}
	if requests != 4 {
		t.Errorf("%d request lines, want 4:\n%s", requests, logs.String())
	}
}

func TestPanicExits255(t *testing.T) {
	codes := make(chan int, 1)
	exit = func(code int) {
		codes <- code
		panic(http.ErrAbortHandler) // stand in for the process ending: abort the request
	}
	t.Cleanup(func() { exit = os.Exit })
	_, ts, _ := testServer(t, options{})
	_, _ = ts.Client().Get(ts.URL + "/panic")
	select {
	case code := <-codes:
		if code != 255 {
			t.Errorf("GET /panic exited with %d, want 255", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("GET /panic did not exit")
	}
}

func noEnv(string) string { return "" }

func TestParseArgs(t *testing.T) {
	opts, ignored, err := parseArgs([]string{"--port=8080", "--stress-cpu", "2", "-stress-memory=300",
		"--level=debug", "--random-delay", "--cache-server", "redis:6379", "--h2c=true", "--config-path", "/etc/config",
		"--ui-message=hi"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if opts.port != 8080 || opts.stressCPU != 2 || opts.stressMemory != 300 || opts.level != "debug" ||
		opts.configPath != "/etc/config" || opts.uiMessage != "hi" {
		t.Errorf("parsed %+v", opts)
	}
	want := []string{"--random-delay", "--cache-server redis:6379", "--h2c=true"}
	if strings.Join(ignored, "|") != strings.Join(want, "|") {
		t.Errorf("ignored %q, want %q", ignored, want)
	}

	defaults, _, err := parseArgs(nil, func(name string) string {
		return map[string]string{"PODINFO_UI_MESSAGE": "from the environment", "PODINFO_UI_COLOR": "#00ff00"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if defaults.port != 9898 || defaults.uiMessage != "from the environment" || defaults.uiColor != "#00ff00" {
		t.Errorf("defaults %+v", defaults)
	}
	flagWins, _, _ := parseArgs([]string{"--ui-message", "from the flag"}, func(string) string { return "env" })
	if flagWins.uiMessage != "from the flag" {
		t.Errorf("--ui-message lost to the environment: %+v", flagWins)
	}

	for _, bad := range [][]string{{"--port=http"}, {"--port"}, {"--port=70000"}, {"--stress-cpu=-1"},
		{"--level=loud"}, {"--unready=maybe"}} {
		if _, _, err := parseArgs(bad, noEnv); err == nil {
			t.Errorf("parseArgs(%q) accepted it", bad)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	old := version
	version = "6.7.0"
	t.Cleanup(func() { version = old })
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 || stdout.String() != "6.7.0\n" {
		t.Errorf("--version: exit %d, printed %q", code, stdout.String())
	}
	if code := run([]string{"--port=nope"}, &stdout, &stderr); code != 2 {
		t.Errorf("--port=nope: exit %d, want 2", code)
	}
}

func TestStress(t *testing.T) {
	pieces := stressMemory(3)
	if len(pieces) != 3 {
		t.Fatalf("%d pieces, want 3", len(pieces))
	}
	for _, piece := range pieces {
		if len(piece) != megabyte || piece[0] == 0 || piece[megabyte-pageSize] == 0 {
			t.Fatal("a piece is not the right size or not touched")
		}
	}
	stop := make(chan struct{})
	stressCPU(2, stop)
	_, ts, _ := testServer(t, options{})
	expect(t, ts, "GET", "/healthz", 200) // the busy loops do not starve the server
	close(stop)
}

func TestDrainDelayKeepsServingAfterSigterm(t *testing.T) {
	if got := drainDelay("info"); got != 3*time.Second {
		t.Errorf("drainDelay(info) = %s, want 3s", got)
	}
	if got := drainDelay("debug"); got != 0 {
		t.Errorf("drainDelay(debug) = %s, want 0", got)
	}
}
