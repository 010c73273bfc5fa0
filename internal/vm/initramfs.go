package vm

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"

	"github.com/teardown-lab/teardown/internal/vm/guest"
)

// initPackage is the init program every VM runs as PID 1.
const initPackage = "github.com/teardown-lab/teardown/internal/vm/cmd/vminit"

// initFile is a host file copied into the initramfs.
type initFile struct {
	name, src string
	perm      uint32
}

// writeInitramfs writes the VM's initramfs to dst: the init, the job,
// its description, the modules and the caller's extra files. The kernel
// unpacks an uncompressed newc archive fastest, so it is not compressed.
func writeInitramfs(ctx context.Context, dst string, k *Kernel, cfg *Config) error {
	initBin, err := BuildStatic(ctx, initPackage)
	if err != nil {
		return err
	}
	job := guest.Job{Modules: cfg.Modules, Args: cfg.Args, Env: cfg.Env}
	jobJSON, err := json.Marshal(job)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	w := newCPIOWriter(f)
	// The kernel opens /dev/console for PID 1's standard streams before
	// /dev is mounted, so the node must be in the archive itself.
	w.charDev("/dev/console", 0o600, 5, 1)
	for _, d := range []string{"/proc", "/sys", "/tmp", "/bin"} {
		w.mkdirAll(d)
	}
	files := []initFile{
		{guest.InitPath, initBin, 0o755},
		{guest.JobPath, cfg.Binary, 0o755},
	}
	for _, m := range cfg.Modules {
		files = append(files, initFile{path.Join(guest.ModuleDir, m+".ko"), k.Module(m), 0o644})
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Files)) {
		files = append(files, initFile{name, cfg.Files[name], 0o755})
	}
	for _, fl := range files {
		data, err := os.ReadFile(fl.src)
		if err != nil {
			return fmt.Errorf("vm: initramfs %s: %w", fl.name, err)
		}
		w.file(fl.name, fl.perm, data)
	}
	w.file(guest.ConfigPath, 0o644, jobJSON)
	if err := w.close(); err != nil {
		return err
	}
	return f.Close()
}
