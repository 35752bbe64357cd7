// Command podinfo is the Real-World Kubernetes course's own stand-in for the demo
// application the lessons run, the container image ghcr.io/stefanprodan/podinfo (tags
// 6.7.0 and 6.7.1).
//
// It is not podinfo and shares no code with it. It was written from how the course's
// lessons, exercises and checker use the app, and serves just the endpoints and flags they
// call: the health endpoints and their switches (/healthz, /readyz, POST /readyz/disable
// and /readyz/enable), /status/{code}, /delay/{seconds}, the JSON start page with the pod's
// hostname, /env, /headers, /version, /configs, /metrics, /panic, and the flags --port,
// --stress-cpu, --stress-memory, --unready and a few more (see usage below).
//
// It exists because on machines where no container registry answers the real image
// cannot be pulled. There, and only there, the course builds this program into an image
// tagged ghcr.io/stefanprodan/podinfo:6.7.0 and :6.7.1 and loads it into the kind cluster,
// so the lessons' manifests run unchanged; everywhere else the cluster pulls the real one.
//
// The version is baked in at build time:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=6.7.1" -o podinfo .
//
// The Dockerfile next to this file puts the binary at /home/app/podinfo, run as uid 100.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Set at build time with -ldflags "-X main.version=6.7.1 -X main.commit=...".
var (
	version = "dev"
	commit  = "rwk-stand-in"
)

// options are the command line's settings, after the environment has filled the gaps.
type options struct {
	port            int
	level           string
	stressCPU       int
	stressMemory    int // megabytes
	configPath      string
	uiMessage       string
	uiColor         string
	unready         bool
	unhealthy       bool
	showVersion     bool
	showHelp        bool
	shutdownTimeout time.Duration
}

const usage = `Usage: podinfo [flags]

The Real-World Kubernetes course's stand-in for ghcr.io/stefanprodan/podinfo.

Flags (--name=value, --name value, or with a single dash):
  --port N               port to listen on (default 9898)
  --level LEVEL          log level: debug, info, warn, error (default info; env PODINFO_LEVEL)
  --stress-cpu N         keep N goroutines busy, each about one core (default 0)
  --stress-memory MB     allocate, touch and hold MB megabytes at start (default 0)
  --config-path DIR      directory whose files GET /configs serves, re-read on each request
  --ui-message TEXT      message on the start page (env PODINFO_UI_MESSAGE)
  --ui-color COLOR       color on the start page (env PODINFO_UI_COLOR)
  --unready              start with /readyz failing (503) until POST /readyz/enable
  --unhealthy            start with /healthz failing (503) until POST /healthz/enable
  --shutdown-timeout D   how long SIGTERM waits for requests in flight (default 5s), after
                         serving 3 s more with failing probes (none at level debug)
  --version              print the version and exit
  --help                 print this help and exit

Other flags of the real podinfo are accepted, logged as ignored, and have no effect.
`

// parseArgs reads the command line. Unknown flags are not an error (the real app has many
// this stand-in does not implement): each is returned in ignored, with the value it took.
// A bad value for a known flag is an error.
func parseArgs(args []string, getenv func(string) string) (opts options, ignored []string, err error) {
	opts = options{
		port:            9898,
		level:           "info",
		shutdownTimeout: 5 * time.Second,
		uiMessage:       getenv("PODINFO_UI_MESSAGE"),
		uiColor:         getenv("PODINFO_UI_COLOR"),
	}
	if level := getenv("PODINFO_LEVEL"); level != "" {
		opts.level = level
	}
	valued := map[string]func(string) error{
		"port":             intInto(&opts.port, 0, 65535),
		"level":            func(v string) error { opts.level = v; return nil },
		"stress-cpu":       intInto(&opts.stressCPU, 0, 1024),
		"stress-memory":    intInto(&opts.stressMemory, 0, 1<<20),
		"config-path":      func(v string) error { opts.configPath = v; return nil },
		"ui-message":       func(v string) error { opts.uiMessage = v; return nil },
		"ui-color":         func(v string) error { opts.uiColor = v; return nil },
		"shutdown-timeout": durationInto(&opts.shutdownTimeout),
	}
	boolean := map[string]*bool{
		"unready":   &opts.unready,
		"unhealthy": &opts.unhealthy,
		"version":   &opts.showVersion,
		"v":         &opts.showVersion,
		"help":      &opts.showHelp,
		"h":         &opts.showHelp,
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			ignored = append(ignored, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			ignored = append(ignored, arg) // podinfo takes no positional arguments
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if set, ok := valued[name]; ok {
			if !hasValue {
				if i+1 >= len(args) {
					return opts, ignored, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if err := set(value); err != nil {
				return opts, ignored, fmt.Errorf("flag --%s: %v", name, err)
			}
			continue
		}
		if target, ok := boolean[name]; ok {
			*target = true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return opts, ignored, fmt.Errorf("flag --%s: %q is not a boolean", name, value)
				}
				*target = b
			}
			continue
		}
		// Unknown: take the next argument as its value unless it looks like a flag.
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			arg += " " + args[i]
		}
		ignored = append(ignored, arg)
	}
	if _, err := parseLevel(opts.level); err != nil {
		return opts, ignored, err
	}
	return opts, ignored, nil
}

func intInto(target *int, low, high int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		if n < low || n > high {
			return fmt.Errorf("%d is outside %d..%d", n, low, high)
		}
		*target = n
		return nil
	}
}

func durationInto(target *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			if seconds, err2 := strconv.Atoi(v); err2 == nil {
				d = time.Duration(seconds) * time.Second
			} else {
				return fmt.Errorf("%q is not a duration such as 5s", v)
			}
		}
		if d < 0 {
			return fmt.Errorf("%q is negative", v)
		}
		*target = d
		return nil
	}
}

func parseLevel(level string) (slog.Level, error) {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal", "panic":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("--level %q: expected debug, info, warn or error", level)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// drainDelay is how long the server goes on accepting requests after SIGTERM, as the real
// podinfo does: the pod's endpoint is still listed in Services and in the Ingress
// controller's load balancer until the endpoint controller and the controller catch up, and
// a pod that stopped listening at once would leave requests sent in that window to a
// vanished address. At log level debug (local runs) there is no wait, again as the real app.
func drainDelay(level string) time.Duration {
	if level == "debug" {
		return 0
	}
	return 3 * time.Second
}

// run is the whole program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	opts, ignored, err := parseArgs(args, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "podinfo: %v\n\n%s", err, usage)
		return 2
	}
	if opts.showHelp {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if opts.showVersion {
		fmt.Fprintln(stdout, version)
		return 0
	}
	level, _ := parseLevel(opts.level)
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: level}))
	for _, arg := range ignored {
		logger.Warn("argument not supported by this stand-in, ignored", "argument", arg)
	}

	app := newServer(opts, logger)
	if opts.stressMemory > 0 {
		held = stressMemory(opts.stressMemory)
		logger.Info("stress: memory allocated and held", "megabytes", opts.stressMemory)
	}
	if opts.stressCPU > 0 {
		stressCPU(opts.stressCPU, nil)
		logger.Info("stress: cpu load started", "goroutines", opts.stressCPU)
	}

	listener, err := net.Listen("tcp", fmt.Sprintf(":%d", opts.port))
	if err != nil {
		logger.Error("cannot listen", "port", opts.port, "error", err.Error())
		return 1
	}
	server := &http.Server{
		Handler:           app.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("starting podinfo (course stand-in)", "version", version, "port", opts.port,
		"pid", os.Getpid(), "ready", !opts.unready, "healthy", !opts.unhealthy)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	select {
	case err := <-served:
		logger.Error("server stopped", "error", err.Error())
		return 1
	case sig := <-signals:
		app.ready.Store(false)
		app.healthy.Store(false)
		delay := drainDelay(opts.level)
		logger.Info("signal received: /readyz and /healthz fail from now on; still serving "+
			"while load balancers drop this pod, then shutting down", "signal", sig.String(),
			"serving_for", delay.String(), "timeout", opts.shutdownTimeout.String())
		time.Sleep(delay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		logger.Warn("requests still in flight at the shutdown timeout, closing them", "error", err.Error())
		server.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("server", "error", err.Error())
	}
	logger.Info("shut down")
	return 0
}
