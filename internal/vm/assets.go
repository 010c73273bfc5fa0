package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Kernel is an unpacked kernel ready to boot: what scripts/vm-assets.sh
// leaves in CACHE_DIR/kernel.
type Kernel struct {
	// Dir is CACHE_DIR/kernel.
	Dir string
	// Vmlinux is the ELF kernel that qemu boots through its PVH entry.
	Vmlinux string
	// Package is the Debian package, its version and the kernel release,
	// e.g. "linux-image-6.1.0-56-amd64 6.1.192-2 6.1.0-56-amd64".
	Package string
}

// Module returns the path of the module name (e.g. "dccp") in the cache.
func (k *Kernel) Module(name string) string {
	return filepath.Join(k.Dir, "modules", name+".ko")
}

// EnvCacheDir names the environment variable that overrides the cache
// directory.
const EnvCacheDir = "TEARDOWN_VM_CACHE"

// DefaultCacheDir returns $TEARDOWN_VM_CACHE, or teardown/vm under the
// user's cache directory (for root: /root/.cache/teardown/vm). The cache
// survives between test runs, so the kernel package is downloaded once.
func DefaultCacheDir() string {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "teardown", "vm")
	}
	return filepath.Join(os.TempDir(), "teardown-vm-cache")
}

// assetTimeout bounds one run of the asset script: a download of about
// 70 MB, an unpack and, at worst, an apt-get update and a qemu install.
const assetTimeout = 10 * time.Minute

var assetsMu sync.Mutex

// Assets returns the kernel in cacheDir ("" means DefaultCacheDir()),
// running scripts/vm-assets.sh first when the cache is not complete or qemu
// is not installed (the script installs it as root). The script takes a
// file lock, so parallel test processes may call it.
func Assets(cacheDir string) (*Kernel, error) {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	assetsMu.Lock()
	defer assetsMu.Unlock()
	if k, err := readKernel(cacheDir); err == nil {
		if _, err := exec.LookPath(qemuBinary); err == nil {
			return k, nil
		}
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), assetTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, cacheDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("vm: %s %s: %w\n%s", script, cacheDir, err, out.String())
	}
	return readKernel(cacheDir)
}

// readKernel returns the kernel in cacheDir if the cache is complete: the
// stamp file PACKAGE is written last by the script.
func readKernel(cacheDir string) (*Kernel, error) {
	dir := filepath.Join(cacheDir, "kernel")
	stamp, err := os.ReadFile(filepath.Join(dir, "PACKAGE"))
	if err != nil {
		return nil, fmt.Errorf("vm: no kernel in %s: %w", cacheDir, err)
	}
	k := &Kernel{Dir: dir, Vmlinux: filepath.Join(dir, "vmlinux"), Package: strings.TrimSpace(string(stamp))}
	for _, f := range []string{k.Vmlinux, k.Module("dccp"), k.Module("dccp_ipv4"), k.Module("dccp_ipv6"), k.Module("tun")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("vm: incomplete cache %s: %w", cacheDir, err)
		}
	}
	return k, nil
}

// moduleRoot returns the directory of go.mod of this module: from the
// source file's location when it is known (tests), else by walking up from
// the working directory.
func moduleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vm: cannot find the module root (go.mod) from the working directory")
		}
		dir = parent
	}
}

func scriptPath() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "scripts", "vm-assets.sh")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("vm: asset script: %w", err)
	}
	return p, nil
}
