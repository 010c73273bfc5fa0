package vm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// buildTimeout bounds one go build; with a warm build cache it takes
// seconds.
const buildTimeout = 5 * time.Minute

// builds caches this process's builds: each package is built once per
// test run (the go build cache makes a rebuild in the next run cheap).
var builds struct {
	sync.Mutex
	dir  string
	done map[string]string
}

// GuestTag is the build tag of the guest commands (internal/vm/cmd/...):
// without it they do not build, so that go install ./... never installs a
// program that only makes sense inside a VM. BuildStatic and BuildTest set
// it.
const GuestTag = "vmguest"

// BuildStatic builds the main package pkg (an import path such as
// "github.com/teardown-lab/teardown/internal/vm/cmd/dccpprobe", or a path
// relative to the module root such as "./internal/vm/cmd/dccpprobe") as a
// static linux/amd64 binary (CGO_ENABLED=0, tag GuestTag) and returns its
// path. The binary lives in a
// directory of this process's that RemoveBuilds deletes.
func BuildStatic(ctx context.Context, pkg string) (string, error) {
	return build(ctx, "build", pkg)
}

// BuildTest compiles the tests of pkg into a static linux/amd64 test
// binary (go test -c, CGO_ENABLED=0, so without -race; tag GuestTag) and returns its
// path. Run it in the VM with arguments such as "-test.run=^TestX$" and
// "-test.v".
func BuildTest(ctx context.Context, pkg string) (string, error) {
	return build(ctx, "test", pkg)
}

// RemoveBuilds deletes the binaries BuildStatic and BuildTest made; a
// TestMain may call it after m.Run.
func RemoveBuilds() {
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.done = "", nil
}

func build(ctx context.Context, verb, pkg string) (string, error) {
	builds.Lock()
	defer builds.Unlock()
	key := verb + " " + pkg
	if p, ok := builds.done[key]; ok {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if builds.dir == "" {
		d, err := os.MkdirTemp("", "teardown-vm-build-")
		if err != nil {
			return "", err
		}
		builds.dir, builds.done = d, map[string]string{}
	}
	name := strings.NewReplacer("/", "_", ".", "_").Replace(pkg)
	out := filepath.Join(builds.dir, fmt.Sprintf("%s-%s-%d", verb, name, len(builds.done)))
	args := []string{"build", "-trimpath", "-tags=" + GuestTag, "-o", out, pkg}
	if verb == "test" {
		args = []string{"test", "-c", "-trimpath", "-tags=" + GuestTag, "-o", out, pkg}
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("vm: go %s: %w\n%s", strings.Join(args, " "), err, log.String())
	}
	builds.done[key] = out
	return out, nil
}
