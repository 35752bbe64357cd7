package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// exit ends the process; GET /panic calls it. Tests replace it.
var exit = os.Exit

// Files GET /configs reads at most this much of.
const maxConfigFile = 1 << 20

// maxDelay bounds GET /delay/{seconds}.
const maxDelay = 300.0

type server struct {
	opts    options
	log     *slog.Logger
	started time.Time
	ready   atomic.Bool
	healthy atomic.Bool

	mu       sync.Mutex
	requests map[requestKey]uint64
}

type requestKey struct {
	method, path string
	status       int
}

func newServer(opts options, logger *slog.Logger) *server {
	s := &server{opts: opts, log: logger, started: time.Now(), requests: map[requestKey]uint64{}}
	s.ready.Store(!opts.unready)
	s.healthy.Store(!opts.unhealthy)
	return s
}

// routes is the whole HTTP interface. A path not listed answers 404, a listed path asked
// with another method 405 (GET patterns also answer HEAD).
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.info)
	mux.HandleFunc("GET /api/info", s.info)
	mux.HandleFunc("GET /version", s.versionInfo)
	mux.HandleFunc("GET /healthz", s.probe(&s.healthy))
	mux.HandleFunc("GET /readyz", s.probe(&s.ready))
	mux.HandleFunc("POST /healthz/enable", s.toggle(&s.healthy, true, "liveness"))
	mux.HandleFunc("POST /healthz/disable", s.toggle(&s.healthy, false, "liveness"))
	mux.HandleFunc("POST /readyz/enable", s.toggle(&s.ready, true, "readiness"))
	mux.HandleFunc("POST /readyz/disable", s.toggle(&s.ready, false, "readiness"))
	mux.HandleFunc("GET /env", s.env)
	mux.HandleFunc("GET /headers", s.headers)
	mux.HandleFunc("/status/{code}", s.status)
	mux.HandleFunc("GET /delay/{seconds}", s.delay)
	mux.HandleFunc("GET /configs", s.configs)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("/panic", s.panicExit)
	return s.logged(mux)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	_ = encoder.Encode(body) // a 204 or 304 takes no body; nothing to do about it
}

func (s *server) message() string {
	if s.opts.uiMessage != "" {
		return s.opts.uiMessage
	}
	return "greetings from podinfo v" + version
}

func (s *server) color() string {
	if s.opts.uiColor != "" {
		return s.opts.uiColor
	}
	return "#326ce5"
}

// info is the start page, as JSON: which pod answered, and what it runs.
func (s *server) info(w http.ResponseWriter, r *http.Request) {
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"hostname":      hostname,
		"version":       version,
		"revision":      commit,
		"message":       s.message(),
		"color":         s.color(),
		"goos":          runtime.GOOS,
		"goarch":        runtime.GOARCH,
		"runtime":       runtime.Version(),
		"num_goroutine": strconv.Itoa(runtime.NumGoroutine()),
		"num_cpu":       strconv.Itoa(runtime.NumCPU()),
	})
}

func (s *server) versionInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": version, "commit": commit})
}

// probe answers 200 while the switch is on, 503 while it is off.
func (s *server) probe(on *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if on.Load() {
			writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
}

// toggle sets a probe's switch; it answers 202 with no body, so `curl -s -X POST` prints nothing.
func (s *server) toggle(target *atomic.Bool, value bool, what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if target.Swap(value) != value {
			state := "enabled"
			if !value {
				state = "disabled"
			}
			s.log.Info(what+" "+state, "remote", r.RemoteAddr)
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func (s *server) env(w http.ResponseWriter, r *http.Request) {
	environment := os.Environ()
	sort.Strings(environment)
	writeJSON(w, http.StatusOK, environment)
}

func (s *server) headers(w http.ResponseWriter, r *http.Request) {
	headers := map[string][]string{}
	for name, values := range r.Header {
		headers[name] = values
	}
	if r.Host != "" {
		headers["Host"] = []string{r.Host}
	}
	writeJSON(w, http.StatusOK, headers)
}

// status answers with the status asked for, whatever the method.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		writeJSON(w, http.StatusBadRequest,
			map[string]string{"error": fmt.Sprintf("status %q: expected a number from 200 to 599", r.PathValue("code"))})
		return
	}
	writeJSON(w, code, map[string]int{"status": code})
}

// delay answers 200 after the given number of seconds (a fraction is allowed).
func (s *server) delay(w http.ResponseWriter, r *http.Request) {
	seconds, err := strconv.ParseFloat(r.PathValue("seconds"), 64)
	if err != nil || seconds < 0 || seconds > maxDelay {
		writeJSON(w, http.StatusBadRequest,
			map[string]string{"error": fmt.Sprintf("delay %q: expected seconds from 0 to %g", r.PathValue("seconds"), maxDelay)})
		return
	}
	timer := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer timer.Stop()
	select {
	case <-timer.C:
		writeJSON(w, http.StatusOK, map[string]float64{"delay": seconds})
	case <-r.Context().Done(): // the client gave up (a probe's timeout, say)
	}
}

// configs serves the files of --config-path, read afresh on each request, so a change of a
// mounted ConfigMap shows once the kubelet has rewritten the files. The kubelet's own
// entries (..data and the timestamped directory it points to) are skipped.
func (s *server) configs(w http.ResponseWriter, r *http.Request) {
	files := map[string]string{}
	if s.opts.configPath == "" {
		writeJSON(w, http.StatusOK, files)
		return
	}
	entries, err := os.ReadDir(s.opts.configPath)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	for _, entry := range entries {
		name := entry.Name()
		if strings.HasPrefix(name, "..") {
			continue
		}
		path := filepath.Join(s.opts.configPath, name)
		info, err := os.Stat(path) // follows the kubelet's symlinks
		if err != nil || !info.Mode().IsRegular() || info.Size() > maxConfigFile {
			continue
		}
		content, err := os.ReadFile(path)
		if err != nil {
			s.log.Warn("cannot read config file", "path", path, "error", err.Error())
			continue
		}
		files[name] = string(content)
	}
	writeJSON(w, http.StatusOK, files)
}

// metrics serves a few figures in the Prometheus text format.
func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	var memory runtime.MemStats
	runtime.ReadMemStats(&memory)
	gauge := func(on bool) int {
		if on {
			return 1
		}
		return 0
	}
	var b strings.Builder
	metric := func(name, kind, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
	}
	metric("podinfo_build_info", "gauge", "The course stand-in's version; always 1.")
	fmt.Fprintf(&b, "podinfo_build_info{version=%q,revision=%q,goversion=%q} 1\n", version, commit, runtime.Version())
	metric("podinfo_uptime_seconds", "gauge", "Seconds since the process started.")
	fmt.Fprintf(&b, "podinfo_uptime_seconds %.3f\n", time.Since(s.started).Seconds())
	metric("podinfo_ready", "gauge", "1 while GET /readyz answers 200.")
	fmt.Fprintf(&b, "podinfo_ready %d\n", gauge(s.ready.Load()))
	metric("podinfo_healthy", "gauge", "1 while GET /healthz answers 200.")
	fmt.Fprintf(&b, "podinfo_healthy %d\n", gauge(s.healthy.Load()))
	metric("podinfo_http_requests_total", "counter", "Requests answered, by method, route and status.")
	s.mu.Lock()
	keys := make([]requestKey, 0, len(s.requests))
	for key := range s.requests {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.path != b.path {
			return a.path < b.path
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.status < b.status
	})
	for _, key := range keys {
		fmt.Fprintf(&b, "podinfo_http_requests_total{method=%q,path=%q,status=\"%d\"} %d\n",
			key.method, key.path, key.status, s.requests[key])
	}
	s.mu.Unlock()
	metric("go_goroutines", "gauge", "Goroutines that currently exist.")
	fmt.Fprintf(&b, "go_goroutines %d\n", runtime.NumGoroutine())
	metric("go_memstats_heap_alloc_bytes", "gauge", "Bytes of allocated heap objects.")
	fmt.Fprintf(&b, "go_memstats_heap_alloc_bytes %d\n", memory.HeapAlloc)
	metric("go_memstats_sys_bytes", "gauge", "Bytes obtained from the operating system.")
	fmt.Fprintf(&b, "go_memstats_sys_bytes %d\n", memory.Sys)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, b.String())
}

// panicExit ends the process with status 255, as a crash would; the kubelet restarts it.
func (s *server) panicExit(w http.ResponseWriter, r *http.Request) {
	s.log.Error("GET /panic: exiting with status 255", "remote", r.RemoteAddr)
	exit(255)
}

// recorder remembers the status and size of a response, for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logged writes one log line per request and counts it for /metrics.
func (s *server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		switch {
		case rec.status != 0:
		case r.Context().Err() != nil:
			rec.status = 499 // the client went away before an answer, as nginx logs it
		default:
			rec.status = http.StatusOK
		}
		route := r.Pattern // set by the ServeMux; empty when nothing matched
		if _, path, hasMethod := strings.Cut(route, " "); hasMethod {
			route = path
		}
		if route == "" {
			route = "unmatched"
		}
		s.mu.Lock()
		s.requests[requestKey{r.Method, route, rec.status}]++
		s.mu.Unlock()
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000,
			"remote", r.RemoteAddr, "user_agent", r.UserAgent())
	})
}
