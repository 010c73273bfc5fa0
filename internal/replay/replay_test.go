package replay

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestCommand_SubTestIsAnchoredAndQuoted(t *testing.T) {
	t.Run("seed=860", func(t *testing.T) {
		got := Command(t, "-seed=860")
		want := `go test ./internal/replay -run '^TestCommand_SubTestIsAnchoredAndQuoted$/^seed=860$' -seed=860`
		if got != want {
			t.Errorf("Command = %s\nwant      %s", got, want)
		}
	})
}

// A name with regexp metacharacters still selects itself only: the
// pattern go test gets matches the name and not a longer one.
func TestCommand_MetacharactersAreEscaped(t *testing.T) {
	t.Run("linux@vos-17.1", func(t *testing.T) {
		cmd := Command(t)
		_, pattern, ok := strings.Cut(cmd, "-run '")
		pattern = strings.TrimSuffix(pattern, "'")
		if !ok {
			t.Fatalf("no quoted -run in %s", cmd)
		}
		sub := regexp.MustCompile(strings.Split(pattern, "/")[1])
		if !sub.MatchString("linux@vos-17.1") || sub.MatchString("linux@vos-1711") || sub.MatchString("linux@vos-17.1x") {
			t.Errorf("pattern %s selects the wrong sub-tests", pattern)
		}
	})
}

// The command is one a shell runs as given: sh splits it back into the
// words go test needs.
func TestCommand_ShellSplitsItBack(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("SKIPPING: no sh")
	}
	t.Run("it's", func(t *testing.T) {
		cmd := Command(t, "-flag=a b")
		out, err := exec.Command(sh, "-c", `for w in `+strings.TrimPrefix(cmd, "go test ")+`; do printf '%s\n' "$w"; done`).Output()
		if err != nil {
			t.Fatal(err)
		}
		want := "./internal/replay\n-run\n^TestCommand_ShellSplitsItBack$/^it's$\n-flag=a b\n"
		if string(out) != want {
			t.Errorf("sh split %s into\n%swant\n%s", cmd, out, want)
		}
	})
}
