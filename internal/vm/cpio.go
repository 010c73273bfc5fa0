package vm

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes a cpio archive in the "newc" format, the one the Linux
// kernel unpacks as an initramfs (Documentation/driver-api/early-userspace/
// buffer-format.rst): each entry is a 110-byte ASCII header of the magic
// "070701" and thirteen 8-digit hexadecimal fields, the NUL-terminated name
// padded to a multiple of four bytes, then the data padded likewise. The
// archive ends with an entry named "TRAILER!!!".
//
// Entries are owned by root. Parent directories are not implied: add them
// first (mkdirAll does).
type cpioWriter struct {
	w    *bufio.Writer
	ino  uint32
	dirs map[string]bool
	err  error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<16), ino: 1, dirs: map[string]bool{".": true, "/": true}}
}

// File modes of the newc header (the st_mode bits of stat(2)).
const (
	cpioDir  = 0o040000
	cpioReg  = 0o100000
	cpioChar = 0o020000
)

// mkdirAll adds every directory of dir that is not in the archive yet.
func (c *cpioWriter) mkdirAll(dir string) {
	dir = cleanName(dir)
	if c.dirs[dir] || dir == "" {
		return
	}
	c.mkdirAll(path.Dir(dir))
	c.dirs[dir] = true
	c.entry(dir, cpioDir|0o755, 2, 0, 0, nil)
}

// file adds a regular file with mode perm (e.g. 0o755), creating its
// parent directories.
func (c *cpioWriter) file(name string, perm uint32, data []byte) {
	c.mkdirAll(path.Dir(cleanName(name)))
	c.entry(cleanName(name), cpioReg|perm&0o7777, 1, 0, 0, data)
}

// charDev adds a character device node.
func (c *cpioWriter) charDev(name string, perm, major, minor uint32) {
	c.mkdirAll(path.Dir(cleanName(name)))
	c.entry(cleanName(name), cpioChar|perm&0o7777, 1, major, minor, nil)
}

// close writes the trailer and flushes; it returns the first error.
func (c *cpioWriter) close() error {
	c.ino = 0
	c.entry("TRAILER!!!", 0, 1, 0, 0, nil)
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}

func (c *cpioWriter) entry(name string, mode, nlink, rmajor, rminor uint32, data []byte) {
	if c.err != nil {
		return
	}
	ino := c.ino
	if ino != 0 {
		c.ino++
	}
	// Fields: ino mode uid gid nlink mtime filesize devmajor devminor
	// rdevmajor rdevminor namesize check. namesize counts the NUL.
	_, c.err = fmt.Fprintf(c.w, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	if c.err != nil {
		return
	}
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad(110 + len(name) + 1)
	c.write(data)
	c.pad(len(data))
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

// pad writes the zero bytes that bring n up to a multiple of four.
func (c *cpioWriter) pad(n int) {
	var zeros [3]byte
	c.write(zeros[:(4-n%4)%4])
}

// cleanName makes name relative to the archive root, as the kernel's own
// gen_init_cpio does ("/init" is stored as "init").
func cleanName(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return "."
	}
	return name
}
